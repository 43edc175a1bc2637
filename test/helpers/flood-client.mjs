// A hostile local user's client: many reads, some in flight at once, against
// org.opdbus.StateManager. Run as another user (setpriv --reuid=nobody ...).
// Usage: node flood-client.mjs METHOD COUNT CONCURRENCY < DOCUMENT_TEMPLATE
// METHOD is Plan (the template's "@N@" becomes the call's number), Query or
// Verify. Prints one JSON line: how many were answered, and each error name's count.
import dbus from 'dbus-next';

const [method, count, concurrency] = process.argv.slice(2);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const template = Buffer.concat(chunks).toString('utf8');
const bus = dbus.systemBus();
const calls = Number(count);
const errors = {};
let answered = 0;
let next = 0;

function call(index) {
  const body =
    method === 'Plan'
      ? [template.replaceAll('@N@', String(index))]
      : method === 'Query'
        ? [[]]
        : [];
  const signature = method === 'Plan' ? 's' : method === 'Query' ? 'as' : '';
  return bus.call(
    new dbus.Message({
      destination: 'org.opdbus.StateManager',
      path: '/org/opdbus/StateManager',
      interface: 'org.opdbus.StateManager',
      member: method,
      signature,
      body,
    }),
  );
}

async function worker() {
  while (next < calls) {
    const index = next;
    next += 1;
    try {
      await call(index);
      answered += 1;
    } catch (err) {
      const name = err?.type ?? String(err);
      errors[name] = (errors[name] ?? 0) + 1;
    }
  }
}

await Promise.all(Array.from({ length: Number(concurrency) }, worker));
process.stdout.write(`${JSON.stringify({ answered, errors })}\n`);
bus.disconnect();
