// Unsaved edits survive live redraws. A page that redraws its editable rows whenever the engine says
// something changed (another admin saved, the socket reconnected) would otherwise replace the very
// input someone is typing into: their text lost, focus and caret gone, and a Save that then sends
// the old value back. Here every redraw goes through ``redraw`` (rows rebuilt from the engine's data)
// or ``show`` (a static form's control set to the engine's value), and both keep what the person
// changed and has not saved.
//
// A field is an element with a ``name`` attribute inside a row: a control (input, select, textarea)
// or a named fieldset whose controls edit one value together (a day's opening hours, with rows added
// and removed). A field is *changed* while what it shows differs from the value the engine last gave
// it (its baseline). On a redraw a row drawn from the same stored data as before stays as it is. In
// a row whose data changed, a changed field moves, element and all, into the rebuilt row in place of
// its fresh copy (value, caret, added rows and focus stay; it is flagged if someone else saved that
// field meanwhile), while every other field shows the new stored value and a field focused but not
// typed in keeps the focus. A row being edited that is no longer listed is kept too. After a save,
// ``settle`` makes what was sent the baseline, so the next redraw shows the stored value (the engine
// may normalise it) unless the person typed on since. Handlers read fields from their row at the
// moment they run (``field``), never from elements captured when the row was built.
//
// A control an input method is composing text in (compositionstart to compositionend: Japanese,
// Chinese, Korean input) is *held* like a changed one, even while its value still equals the
// baseline: moving, replacing or blurring it would cancel what the person is composing. A redraw
// leaves the whole row around it in place, as it is, and runs again once the composition ends, when
// the usual rule applies (rows reordered around a focused row never move that row). Leaving the
// page while a field is held asks first (``guardLeaving``: the browser's own prompt on closing,
// reloading or following a link; ``mayLeave`` for the page's own ways out, such as Sign out), and a
// field saved (``settle``), or a new-item form sent (``track``), no longer counts.

const CONTROLS = "input, select, textarea";
const FOCUSABLE = "input, select, textarea, button";
const baselines = new WeakMap();  // field element -> the snapshot of the value the engine gave it
let composing = null;  // the control an input method is composing text in now (only the focused one can)
const afterComposition = new Map();  // container or control -> the redraw it held back for the composition
let leaving = false;  // the person already said yes to leaving (mayLeave): the unload must not ask again

// Listened to on the document, in the capture phase: every control of the page, whenever it was drawn.
document.addEventListener("compositionstart", (event) => { composing = event.target; }, true);
document.addEventListener("compositionend", () => {
  composing = null;
  const heldBack = [...afterComposition.values()];
  afterComposition.clear();
  // on the next task: the input method has let go of the control by then (a redraw run may blur it)
  setTimeout(() => heldBack.forEach((again) => again()), 0);
}, true);

/** Whether an input method is composing text in ``scope`` or a control inside it. */
const composingIn = (scope) => composing !== null && composing.isConnected && scope.contains(composing);

/** What can hold focus in ``scope``, ``scope`` itself first when it is a control. */
const focusables = (scope) => [...(scope.matches(FOCUSABLE) ? [scope] : []), ...scope.querySelectorAll(FOCUSABLE)];

const valueOf = (control) => (control.type === "checkbox" || control.type === "radio"
  ? control.checked : control.value);

/** What a field shows now: a control's value, or every control's value in a fieldset (in order, so
 * a row added or removed counts as a change). */
function snapshot(element) {
  if (element.matches(CONTROLS)) return valueOf(element);
  return JSON.stringify([...element.querySelectorAll(CONTROLS)].map(valueOf));
}

/** The outermost named elements of ``root`` (a named fieldset's own controls belong to it). */
export function fields(root) {
  return [...root.querySelectorAll("[name]")].filter((element) => {
    const outer = element.parentElement.closest("[name]");
    return !outer || !root.contains(outer);
  });
}

/** The field ``name`` of ``row`` as it is now in the page. */
export function field(row, name) {
  return fields(row).find((element) => element.getAttribute("name") === name) || null;
}

/** Whether the person changed ``element`` since the engine last gave it a value (never shown: no). */
export function changed(element) {
  return baselines.has(element) && snapshot(element) !== baselines.get(element);
}

/** Whether a redraw must keep ``element`` as it is: it is changed, or text is being composed in it. */
const held = (element) => changed(element) || composingIn(element);

/** ``encode[name](element)`` merged for each field of ``row`` that was changed: a PATCH body that
 * carries only what this person edited, so it never writes back a value another admin just saved. */
export function changes(row, encode) {
  return Object.assign({}, ...Object.entries(encode).map(([name, part]) => {
    const element = field(row, name);
    return element && changed(element) ? part(element) : {};
  }));
}

/** What ``root``'s changed fields show now (``root`` alone when it is a field itself: a control
 * saved on its own), to hand to ``settle`` once the engine has stored it. */
export function pending(root) {
  const scope = root.hasAttribute("name") ? [root] : fields(root);
  return new Map(scope.filter(changed).map((element) => [element, snapshot(element)]));
}

/** The engine stored what ``pending`` took: that becomes each field's baseline, so a redraw shows the
 * stored value, except in a field the person has gone on editing since. */
export function settle(sent) {
  for (const [element, value] of sent) {
    baselines.set(element, value);
    if (!changed(element)) unflag(element);
  }
}

/** A redraw found the engine's value of an edited field changed (``stored``: what it is now, for a
 * control): say so on the field, since saving will replace it. */
function flagConflict(element, stored) {
  const what = stored === null ? "other values" : (stored === "" ? "an empty value" : `"${stored}"`);
  const note = `Someone else saved ${what} here while you were editing; Save keeps yours.`;
  element.classList.add("changed-elsewhere");
  element.title = note;  // on hover
  element.setAttribute("aria-description", note);  // read with the field
}

function unflag(element) {
  element.classList.remove("changed-elsewhere");
  element.removeAttribute("title");
  element.removeAttribute("aria-description");
}

/** Set a static form's ``control`` to the engine's ``value`` unless it holds a change not yet saved. */
export function show(control, value) {
  if (composingIn(control)) {  // untouched until the composition ends, then shown by the usual rule
    afterComposition.set(control, () => show(control, value));
    return;
  }
  afterComposition.delete(control);  // this value is newer than any held back
  if (!changed(control)) {
    if (control.type === "checkbox") control.checked = Boolean(value);
    else control.value = value;
    baselines.set(control, snapshot(control));
    unflag(control);
    return;
  }
  const stored = typeof value === "boolean" ? value : String(value);
  rebase(control, stored, String(value));
}

/** ``element`` holds an edit and the engine's value is now ``stored`` (``shown``: it as text, null
 * for a fieldset): the edit stays, flagged if someone else saved another value meanwhile, and is
 * no edit any more where it equals the stored value. */
function rebase(element, stored, shown) {
  const elsewhere = stored !== baselines.get(element);
  baselines.set(element, stored);
  if (!changed(element)) unflag(element);
  else if (elsewhere) flagConflict(element, shown);
}

/** Where focus is in ``container``: its row's key, its field and its place there, and the caret. */
function focusOf(container, keyOf) {
  const active = document.activeElement;
  const row = active && active !== document.body && container.contains(active)
    ? [...container.children].find((child) => child.contains(active)) : null;
  if (!row) return null;
  const owner = fields(row).find((element) => element.contains(active)) || null;
  const scope = owner || row;
  const caret = typeof active.selectionStart === "number"  // null where the type has no caret (number)
    ? {start: active.selectionStart, end: active.selectionEnd, direction: active.selectionDirection} : null;
  return {active, key: keyOf(row), name: owner?.getAttribute("name") ?? null, caret, scrollTop: active.scrollTop,
    index: focusables(scope).indexOf(active)};
}

/** Focus back where it was: the same element if it was kept, else its counterpart in the new row. */
function restoreFocus(container, keyOf, was) {
  if (!was || document.activeElement === was.active) return;
  let target = was.active.isConnected && container.contains(was.active) ? was.active : null;
  if (!target) {
    const row = [...container.children].find((child) => keyOf(child) === was.key);
    const scope = row && (was.name === null ? row : field(row, was.name));
    target = scope ? focusables(scope)[was.index] ?? null : null;
  }
  if (!target) return;
  target.focus({preventScroll: true});
  if (target === was.active) target.scrollTop = was.scrollTop;
  if (was.caret && typeof target.selectionStart === "number") {
    target.setSelectionRange(was.caret.start, was.caret.end, was.caret.direction);
  }
}

/** What a row was drawn from: its text and each field's stored value and label (not what is typed). */
const drawnFrom = (row) => JSON.stringify([row.textContent,
  fields(row).map((element) => [element.getAttribute("name"), baselines.get(element), element.getAttribute("aria-label")])]);

/** Move the edits of ``old`` into ``row``, its rebuilt copy: each changed field replaces its fresh
 * twin, its baseline now the new stored value. */
function transplant(old, row) {
  for (const edited of fields(old).filter(changed)) {
    const copy = field(row, edited.getAttribute("name"));
    if (!copy) continue;
    rebase(edited, baselines.get(copy), copy.matches(CONTROLS) ? String(valueOf(copy)) : null);
    if (copy.hasAttribute("aria-label")) edited.setAttribute("aria-label", copy.getAttribute("aria-label"));
    copy.replaceWith(edited);
  }
}

/** Whether a redraw must leave ``row`` where it is: text is being composed in it, or one of its
 * fields is changed. */
const keeps = (row) => composingIn(row) || fields(row).some(changed);

/** Put ``rows`` into ``container`` in this order, where every row already in it is one of them. The
 * row holding the focus is never moved (taking it out of the page blurs it, and ends an input
 * method's composition): the others are placed around it. */
function place(container, rows) {
  const active = document.activeElement;
  const at = rows.findIndex((row) => row.parentNode === container && row.contains(active));
  if (at < 0) {
    rows.forEach((row, index) => {
      if (container.children[index] !== row) container.insertBefore(row, container.children[index] ?? null);
    });
    return;
  }
  for (let i = at - 1; i >= 0; i -= 1) {
    if (rows[i].nextSibling !== rows[i + 1]) container.insertBefore(rows[i], rows[i + 1]);
  }
  for (let i = at + 1; i < rows.length; i += 1) {
    if (rows[i - 1].nextSibling !== rows[i]) container.insertBefore(rows[i], rows[i - 1].nextSibling);
  }
}

/** Replace ``container``'s rows with ``rows`` (built fresh from the engine's data; ``keyOf(row)``
 * names which record a row shows, null for a placeholder) and keep every change not yet saved. A
 * row drawn from the same data as before stays untouched in the page (typing and scroll go on
 * undisturbed); a changed row takes the edits of the old one (``transplant``); a row being edited
 * that is no longer listed stays where it was; focus and caret stay with the person. A row an input
 * method is composing in stays as it is, whatever changed, and this redraw runs again when the
 * composition ends (with the same rows: nothing newer was drawn meanwhile, or that redraw replaced
 * this one). */
export function redraw(container, rows, keyOf) {
  const was = focusOf(container, keyOf);
  const fresh = rows.flat().filter(Boolean);
  // a row already in the page (drawn by this redraw before it ran again) keeps its baselines
  for (const row of fresh) if (!row.isConnected) for (const element of fields(row)) baselines.set(element, snapshot(element));
  const before = [...container.children];
  const previous = new Map(before.map((row) => [keyOf(row), row]).filter(([key]) => key != null));
  const listed = new Set(fresh.map(keyOf));
  let waiting = false;  // a row was left as it was for a composition
  const result = fresh.map((row) => {
    const old = previous.get(keyOf(row));
    if (!old) return row;
    if (drawnFrom(old) === drawnFrom(row)) return old;
    if (composingIn(old)) {
      waiting = true;
      return old;
    }
    transplant(old, row);
    return row;
  });
  before.forEach((row, index) => {
    const key = keyOf(row);
    if (key == null || listed.has(key) || !keeps(row)) return;
    waiting ||= composingIn(row);
    result.splice(Math.min(index, result.length), 0, row);
  });
  if (waiting) afterComposition.set(container, () => redraw(container, rows, keyOf));
  else afterComposition.delete(container);  // all drawn: an older redraw held back has nothing left to do
  // rows that stay are never taken out of the page (that would blur them): the others go, the new come in around them
  const staying = new Set(result);
  for (const row of before) if (!staying.has(row)) row.remove();
  place(container, result);
  restoreFocus(container, keyOf, was);
}

/** Count what is typed into a form that creates something (a new operator, team or canned reply)
 * as unsaved: its fields' values now (the form's defaults) become their baselines. Call it when the
 * page binds the form and again once the form is sent and reset. */
export function track(form) {
  for (const element of fields(form)) baselines.set(element, snapshot(element));
}

/** How many fields of the page hold a change not saved, or text an input method is composing. */
export function unsavedCount() {
  return fields(document.body).filter((element) => baselines.has(element) && held(element)).length;
}

/** Ask before the page is left with unsaved edits: the browser's own prompt (its words, never the
 * page's) on closing the tab, reloading, following a link. The handler acts only while a field is
 * held, and counts when it is asked rather than keeping a flag up to date: a day's hours row added
 * or removed changes a field with no input event, a redraw or a save un-changes one, and a count
 * taken then can never be stale. Call once per page. */
export function guardLeaving() {
  window.addEventListener("beforeunload", (event) => {
    if (leaving || !unsavedCount()) return;
    event.preventDefault();
    event.returnValue = "";  // Chromium and Safari ask only when returnValue is set too
  });
}

/** Whether the page may go now by its own doing (``action``: "Sign out"): yes when nothing is
 * unsaved, else the person says, told how many fields they would lose. A yes also stills
 * ``guardLeaving`` for the unload that follows, so nobody is asked twice. */
export function mayLeave(action) {
  const count = unsavedCount();
  if (!count) return true;
  const what = count === 1 ? "1 field has a change" : `${count} fields have changes`;
  if (!window.confirm(`${what} not saved. ${action} and lose ${count === 1 ? "it" : "them"}?`)) return false;
  leaving = true;
  return true;
}
