// The page's tabs: "Overview" (always) and tabs that features add (Fleet). The
// tab bar shows only while more than one tab is available, so a daemon without
// those features gets the page as it always was.
import { byId } from './dom.js';

/** onSelect(id) runs whenever a tab becomes the selected one. */
export function mountTabs(onSelect = () => undefined) {
  const nav = byId('page-tabs');
  const tabs = [...nav.querySelectorAll('[role="tab"]')];
  const panelOf = (tab) => byId(tab.getAttribute('aria-controls'));

  const select = (tab) => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute('aria-selected', String(selected));
      other.tabIndex = selected ? 0 : -1;
      panelOf(other).hidden = !selected;
    }
    const changed = document.body.dataset.tab !== tab.id;
    document.body.dataset.tab = tab.id;
    if (changed) onSelect(tab.id);
  };
  for (const tab of tabs) tab.addEventListener('click', () => select(tab));

  return {
    /** Shows or hides a tab; a hidden tab that was selected gives way to the first. */
    setAvailable(id, available) {
      const tab = byId(id);
      tab.hidden = !available;
      if (!available && tab.getAttribute('aria-selected') === 'true') select(tabs[0]);
      nav.hidden = tabs.filter((t) => !t.hidden).length < 2;
    },
  };
}
