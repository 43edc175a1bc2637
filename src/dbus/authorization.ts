import type { Logger } from 'pino';
import { ErrorName, OpdbusError } from '../errors.js';
import { callMethod, dbusErrorText, Variant, type MessageBus } from './bus.js';

/** The polkit actions of dbus-interfaces/org.opdbus.policy. */
export const Action = {
  apply: 'org.opdbus.apply',
  reconcile: 'org.opdbus.reconcile',
  cancel: 'org.opdbus.cancel',
  /** Confirm, roll back or extend a checkpoint (ApplyConfirmed itself is org.opdbus.apply). */
  checkpoint: 'org.opdbus.checkpoint',
} as const;
export type ActionId = (typeof Action)[keyof typeof Action];

/** Who is calling, as the bus says: the unique name and the uid behind it. */
export interface Caller {
  sender: string;
  uid: number;
}

const POLKIT = 'org.freedesktop.PolicyKit1';
const POLKIT_PATH = '/org/freedesktop/PolicyKit1/Authority';
const CHECK_FLAG_ALLOW_USER_INTERACTION = 1;
/** An interactive check waits for a person at a password prompt. */
const INTERACTIVE_TIMEOUT_MS = 5 * 60_000;
const TIMEOUT_MS = 25_000;

/**
 * Decides whether a caller may change the machine, as PackageKit and systemd do:
 * root always may; anyone else only if polkit says so. polkit unreachable, or any
 * error while asking, means no.
 */
export class Authorizer {
  constructor(
    private readonly bus: MessageBus,
    private readonly log: Logger,
  ) {}

  /** The caller's uid from the bus daemon (never from anything the caller sent). */
  async identify(sender: string): Promise<Caller> {
    const [uid] = await callMethod(this.bus, {
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'GetConnectionUnixUser',
      signature: 's',
      body: [sender],
    });
    return { sender, uid: Number(uid) };
  }

  /** Resolves with the caller when allowed; throws AccessDenied otherwise. */
  async authorize(sender: string, action: ActionId, interactive: boolean): Promise<Caller> {
    const caller = await this.identify(sender);
    if (caller.uid === 0) return caller;
    let authorized: boolean;
    try {
      authorized = await this.checkAuthorization(sender, action, interactive);
    } catch (err) {
      this.log.warn(
        { action, uid: caller.uid, err: dbusErrorText(err) },
        'polkit check failed; denying',
      );
      throw new OpdbusError(
        ErrorName.AccessDenied,
        `${action} denied for uid ${caller.uid}: cannot ask polkit (${dbusErrorText(err)})`,
      );
    }
    if (!authorized) {
      this.log.info({ action, uid: caller.uid }, 'access denied by polkit');
      throw new OpdbusError(
        ErrorName.AccessDenied,
        `${action} denied for uid ${caller.uid} by polkit`,
      );
    }
    return caller;
  }

  private async checkAuthorization(
    sender: string,
    action: ActionId,
    interactive: boolean,
  ): Promise<boolean> {
    const subject = ['system-bus-name', { name: new Variant('s', sender) }];
    const flags = interactive ? CHECK_FLAG_ALLOW_USER_INTERACTION : 0;
    const [result] = await callMethod(
      this.bus,
      {
        destination: POLKIT,
        path: POLKIT_PATH,
        interface: 'org.freedesktop.PolicyKit1.Authority',
        member: 'CheckAuthorization',
        signature: '(sa{sv})sa{ss}us',
        body: [subject, action, {}, flags, ''],
      },
      interactive ? INTERACTIVE_TIMEOUT_MS : TIMEOUT_MS,
    );
    return (result as [boolean, boolean, Record<string, string>])[0] === true;
  }
}
