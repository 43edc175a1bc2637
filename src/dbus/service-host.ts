import type { Logger } from 'pino';
import { ErrorName, OpdbusError, PluginFailure, errorMessage } from '../errors.js';
import { MessageClass, MessageType, Variant, type Message, type MessageBus } from './bus.js';
import { renderIntrospection, type InterfaceSpec } from './interface-xml.js';
import { STANDARD_INTERFACES } from './standard-interfaces.js';

/** Who made a call, as the bus tells it (never as the caller claims). */
export interface CallContext {
  sender: string;
  /** The caller set ALLOW_INTERACTIVE_AUTHORIZATION: polkit may ask a person. */
  interactive: boolean;
}

const ALLOW_INTERACTIVE_AUTHORIZATION = 0x4;

export type MethodHandler = (args: unknown[], call: CallContext) => unknown[] | Promise<unknown[]>;

/** What an object provides for one interface: method handlers and current property values. */
export interface InterfaceImpl {
  spec: InterfaceSpec;
  methods: Record<string, MethodHandler>;
  properties: () => Record<string, unknown>;
}

const PROPERTIES = 'org.freedesktop.DBus.Properties';
const INTROSPECTABLE = 'org.freedesktop.DBus.Introspectable';

/**
 * Serves objects on the bus from their introspection specs.
 *
 * dbus-next's own Interface class cannot be used from TypeScript with decorators,
 * drops argument names from Introspect, and answers a call with the wrong
 * signature as an unknown method. This host takes every call to its objects
 * first: it checks signatures against the XML, replies to Introspect with that
 * XML, serves Properties, and turns thrown errors into D-Bus errors without
 * leaking stacks to the caller.
 */
export class ServiceHost {
  private readonly objects = new Map<string, InterfaceImpl[]>();
  private readonly handler = (message: Message): boolean => this.handle(message);

  constructor(
    private readonly bus: MessageBus,
    private readonly log: Logger,
    /** Calls to paths under this one are ours: an unknown one is UnknownObject, not someone else's. */
    private readonly rootPath: string,
  ) {
    bus.addMethodHandler(this.handler);
  }

  export(path: string, interfaces: InterfaceImpl[]): void {
    this.objects.set(path, interfaces);
  }

  unexport(path: string): void {
    this.objects.delete(path);
  }

  isExported(path: string): boolean {
    return this.objects.has(path);
  }

  stop(): void {
    this.bus.removeMethodHandler(this.handler);
    this.objects.clear();
  }

  emitSignal(path: string, iface: InterfaceSpec, member: string, body: unknown[]): void {
    const spec = iface.signals.get(member);
    if (!spec) throw new Error(`signal ${iface.name}.${member} is not in the interface XML`);
    this.bus.send(MessageClass.newSignal(path, iface.name, member, spec.signature, body));
  }

  emitPropertiesChanged(
    path: string,
    iface: InterfaceSpec,
    changed: Record<string, unknown>,
  ): void {
    const variants: Record<string, InstanceType<typeof Variant>> = {};
    for (const [name, value] of Object.entries(changed)) {
      const spec = iface.properties.get(name);
      if (!spec) throw new Error(`property ${iface.name}.${name} is not in the interface XML`);
      variants[name] = new Variant(spec.type, value);
    }
    this.bus.send(
      MessageClass.newSignal(path, PROPERTIES, 'PropertiesChanged', 'sa{sv}as', [
        iface.name,
        variants,
        [],
      ]),
    );
  }

  private handle(message: Message): boolean {
    if (message.type !== MessageType.METHOD_CALL) return false;
    const path = message.path;
    if (message.interface === INTROSPECTABLE && message.member === 'Introspect') {
      const xml = this.introspect(path);
      if (xml === undefined) return false;
      this.reply(message, 's', [xml]);
      return true;
    }
    const impls = this.objects.get(path);
    if (!impls) {
      if (path !== this.rootPath && !path.startsWith(`${this.rootPath}/`)) return false;
      this.replyError(
        message,
        ErrorName.UnknownObject,
        `no object at ${path} (finished jobs are kept for a limited time)`,
      );
      return true;
    }
    if (message.interface === PROPERTIES) return this.handleProperties(message, impls);
    const impl = this.findImpl(impls, message);
    if (!impl) return false;
    void this.dispatch(message, impl);
    return true;
  }

  private findImpl(impls: InterfaceImpl[], message: Message): InterfaceImpl | undefined {
    // The interface field is optional in D-Bus; without it, the member name decides.
    if (message.interface) return impls.find((impl) => impl.spec.name === message.interface);
    return impls.find((impl) => impl.spec.methods.has(message.member));
  }

  private async dispatch(message: Message, impl: InterfaceImpl): Promise<void> {
    const spec = impl.spec.methods.get(message.member);
    const handler = impl.methods[message.member];
    if (!spec || !handler) {
      this.replyError(
        message,
        ErrorName.UnknownMethod,
        `${impl.spec.name} has no method ${message.member}`,
      );
      return;
    }
    const signature = message.signature ?? '';
    if (signature !== spec.inSignature) {
      this.replyError(
        message,
        ErrorName.InvalidArgs,
        `${spec.name} takes arguments of signature '${spec.inSignature}', got '${signature}'`,
      );
      return;
    }
    try {
      const interactive = (Number(message.flags) & ALLOW_INTERACTIVE_AUTHORIZATION) !== 0;
      const result = await handler(message.body, { sender: message.sender, interactive });
      this.reply(message, spec.outSignature, result);
    } catch (err) {
      if (err instanceof OpdbusError || err instanceof PluginFailure) {
        this.replyError(message, err.dbusName, err.message);
      } else {
        this.log.error({ err, method: spec.name }, 'method handler failed');
        this.replyError(message, ErrorName.Internal, `${spec.name} failed: ${errorMessage(err)}`);
      }
    }
  }

  private handleProperties(message: Message, impls: InterfaceImpl[]): boolean {
    const body = message.body as unknown[];
    const impl = impls.find((candidate) => candidate.spec.name === body[0]);
    switch (`${message.member}(${message.signature ?? ''})`) {
      case 'GetAll(s)': {
        const values = impl ? this.propertyVariants(impl) : {};
        this.reply(message, 'a{sv}', [values]);
        return true;
      }
      case 'Get(ss)': {
        const spec = impl?.spec.properties.get(String(body[1]));
        if (!impl || !spec) {
          this.replyError(
            message,
            ErrorName.UnknownProperty,
            `no property ${String(body[0])}.${String(body[1])}`,
          );
          return true;
        }
        this.reply(message, 'v', [new Variant(spec.type, impl.properties()[spec.name])]);
        return true;
      }
      case 'Set(ssv)':
        this.replyError(
          message,
          ErrorName.PropertyReadOnly,
          'all op-dbus properties are read-only',
        );
        return true;
      default:
        this.replyError(
          message,
          ErrorName.UnknownMethod,
          `no such Properties call: ${message.member}(${message.signature ?? ''})`,
        );
        return true;
    }
  }

  private propertyVariants(impl: InterfaceImpl): Record<string, InstanceType<typeof Variant>> {
    const values = impl.properties();
    const variants: Record<string, InstanceType<typeof Variant>> = {};
    for (const spec of impl.spec.properties.values()) {
      variants[spec.name] = new Variant(spec.type, values[spec.name]);
    }
    return variants;
  }

  /** Introspection for an exported object or for any node above one; undefined otherwise. */
  private introspect(path: string): string | undefined {
    const impls = this.objects.get(path);
    const children = this.childNodes(path);
    if (!impls && children.length === 0) return undefined;
    const interfaces = impls ? [...STANDARD_INTERFACES, ...impls.map((impl) => impl.spec)] : [];
    return renderIntrospection(interfaces, children);
  }

  private childNodes(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    const children = new Set<string>();
    for (const exported of this.objects.keys()) {
      if (!exported.startsWith(prefix)) continue;
      const child = exported.slice(prefix.length).split('/')[0];
      if (child) children.add(child);
    }
    return [...children];
  }

  private reply(message: Message, signature: string, body: unknown[]): void {
    this.bus.send(MessageClass.newMethodReturn(message, signature, body));
  }

  private replyError(message: Message, name: string, text: string): void {
    // dbus-next's typings declare newError(msg: string); the code takes the Message.
    this.bus.send(MessageClass.newError(message as unknown as string, name, text));
  }
}
