import { readFile } from 'node:fs/promises';
import { Builder, parseString } from 'xml2js';

/** One argument of a method or signal, as the introspection XML declares it. */
export interface ArgSpec {
  name: string;
  type: string;
  direction: 'in' | 'out';
}

export interface MethodSpec {
  name: string;
  args: ArgSpec[];
  inSignature: string;
  outSignature: string;
}

export interface SignalSpec {
  name: string;
  args: ArgSpec[];
  signature: string;
}

export interface PropertySpec {
  name: string;
  type: string;
  access: 'read' | 'write' | 'readwrite';
}

/** A D-Bus interface as parsed from introspection XML: the contract the daemon serves. */
export interface InterfaceSpec {
  name: string;
  methods: Map<string, MethodSpec>;
  signals: Map<string, SignalSpec>;
  properties: Map<string, PropertySpec>;
}

interface XmlArg {
  $: { name?: string; type: string; direction?: string };
}
interface XmlMember {
  $: { name: string; type?: string; access?: string };
  arg?: XmlArg[];
}
interface XmlInterface {
  $: { name: string };
  method?: XmlMember[];
  signal?: XmlMember[];
  property?: XmlMember[];
}
interface XmlNode {
  node?: { interface?: XmlInterface[]; node?: { $: { name: string } }[] };
}

function parseArgs(member: XmlMember, defaultDirection: 'in' | 'out'): ArgSpec[] {
  return (member.arg ?? []).map((arg, index) => ({
    name: arg.$.name ?? `arg${index}`,
    type: arg.$.type,
    direction:
      arg.$.direction === 'out' ? 'out' : arg.$.direction === 'in' ? 'in' : defaultDirection,
  }));
}

function signatureOf(args: ArgSpec[], direction: 'in' | 'out'): string {
  return args
    .filter((arg) => arg.direction === direction)
    .map((arg) => arg.type)
    .join('');
}

function parseAccess(access: string | undefined): PropertySpec['access'] {
  if (access === 'read' || access === 'write' || access === 'readwrite') return access;
  throw new Error(`property access must be read, write or readwrite, got ${String(access)}`);
}

function toInterfaceSpec(xml: XmlInterface): InterfaceSpec {
  const methods = new Map<string, MethodSpec>();
  for (const method of xml.method ?? []) {
    const args = parseArgs(method, 'in');
    methods.set(method.$.name, {
      name: method.$.name,
      args,
      inSignature: signatureOf(args, 'in'),
      outSignature: signatureOf(args, 'out'),
    });
  }
  const signals = new Map<string, SignalSpec>();
  for (const signal of xml.signal ?? []) {
    const args = parseArgs(signal, 'out');
    signals.set(signal.$.name, { name: signal.$.name, args, signature: signatureOf(args, 'out') });
  }
  const properties = new Map<string, PropertySpec>();
  for (const property of xml.property ?? []) {
    properties.set(property.$.name, {
      name: property.$.name,
      type: property.$.type ?? '',
      access: parseAccess(property.$.access),
    });
  }
  return { name: xml.$.name, methods, signals, properties };
}

/** xml2js parses synchronously unless asked not to; this makes that explicit. */
function parseXml(xml: string): XmlNode {
  const outcome: { error?: Error; value?: XmlNode } = {};
  parseString(xml, (err: Error | null, parsed: XmlNode) => {
    if (err) outcome.error = err;
    else outcome.value = parsed;
  });
  if (outcome.error) throw outcome.error;
  if (!outcome.value) throw new Error('introspection XML did not parse');
  return outcome.value;
}

/** Parses introspection XML into interface specs, keyed by interface name. */
export function parseInterfaces(xml: string): Map<string, InterfaceSpec> {
  const parsed = parseXml(xml);
  const result = new Map<string, InterfaceSpec>();
  for (const iface of parsed.node?.interface ?? []) {
    result.set(iface.$.name, toInterfaceSpec(iface));
  }
  return result;
}

export async function loadInterfaces(file: string): Promise<Map<string, InterfaceSpec>> {
  return parseInterfaces(await readFile(file, 'utf8'));
}

/** Parses the child node names out of introspection XML. */
export function parseChildNodes(xml: string): string[] {
  const parsed = parseXml(xml);
  return (parsed.node?.node ?? []).map((node) => node.$.name);
}

function argToXml(arg: ArgSpec, withDirection: boolean): XmlArg {
  return withDirection
    ? { $: { name: arg.name, type: arg.type, direction: arg.direction } }
    : { $: { name: arg.name, type: arg.type } };
}

function interfaceToXml(spec: InterfaceSpec): XmlInterface {
  return {
    $: { name: spec.name },
    method: [...spec.methods.values()].map((m) => ({
      $: { name: m.name },
      arg: m.args.map((arg) => argToXml(arg, true)),
    })),
    signal: [...spec.signals.values()].map((s) => ({
      $: { name: s.name },
      arg: s.args.map((arg) => argToXml(arg, false)),
    })),
    property: [...spec.properties.values()].map((p) => ({
      $: { name: p.name, type: p.type, access: p.access },
    })),
  };
}

const DOCTYPE =
  '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n' +
  ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n';

/** Renders the Introspect reply for one object: its interfaces and its child nodes. */
export function renderIntrospection(interfaces: InterfaceSpec[], children: string[]): string {
  const builder = new Builder({
    headless: true,
    renderOpts: { pretty: true, indent: '  ', newline: '\n' },
  });
  const body = builder.buildObject({
    node: {
      interface: interfaces.map(interfaceToXml),
      node: children.map((name) => ({ $: { name } })),
    },
  });
  return DOCTYPE + body;
}
