// An ARIA tablist: click, or arrow keys (Left/Right wrap, Home/End), select a tab and show its panel;
// only the selected tab is in the Tab order (roving tabindex).

export function initTabs(list) {
  const tabs = [...list.querySelectorAll('[role="tab"]')];

  function select(tab, focus) {
    for (const each of tabs) {
      const on = each === tab;
      each.setAttribute("aria-selected", String(on));
      each.tabIndex = on ? 0 : -1;
      document.getElementById(each.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
  }

  list.addEventListener("click", (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) select(tab, true);
  });
  list.addEventListener("keydown", (event) => {
    const at = tabs.indexOf(document.activeElement);
    const moves = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 };
    if (at < 0 || !(event.key in moves)) return;
    event.preventDefault();
    select(tabs[(moves[event.key] + tabs.length) % tabs.length], true);
  });
  select(tabs.find((t) => t.getAttribute("aria-selected") === "true") || tabs[0], false);
}
