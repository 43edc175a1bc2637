// A few DOM helpers. Text from the daemon only ever goes in through textContent
// (via h()), never as HTML.

/**
 * h('td', {class: 'x', dataset: {id: 1}}, 'text', child): an element with
 * attributes (`class`, `dataset`, `on<event>` handlers, others as attributes) and
 * children (strings become text nodes; null/false are skipped).
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name in element && typeof element[name] !== 'function' && name !== 'list')
      element[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** The element with this id, or a loud error (the HTML and the JS disagree). */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element;
}

/** A table with a header row and one row per item. */
export function table(columns, rows, rowClass) {
  return h(
    'table',
    { class: 'ct-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { scope: 'col' }, c.label)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          { class: rowClass ? rowClass(row) : undefined },
          columns.map((c) => h('td', { dataset: { label: c.label } }, c.value(row))),
        ),
      ),
    ),
  );
}

/** A progress bar with a text label (the <progress> element needs no inline style). */
export function bar(percent, label) {
  const value = Math.max(0, Math.min(100, Number(percent) || 0));
  return h('progress', { max: 100, value, 'aria-label': label, title: `${value}%` });
}

/** fn, run at most once per turn of the event loop however often this is called. */
export function coalesce(fn) {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      fn();
    }, 0);
  };
}
