// Problems shown where they belong: each `errors[].field` path (such as "input.width" or
// "input.input.1") next to the control whose data-field is its longest dotted prefix, the rest and the
// `detail` in the form's summary.

function controlFor(form, field) {
  let best = null;
  for (const control of form.querySelectorAll("[data-field]")) {
    const name = control.dataset.field;
    const matches = field === name || field.startsWith(`${name}.`);
    if (matches && (!best || name.length > best.dataset.field.length)) best = control;
  }
  return best;
}

function describe(control, id, on) {
  const ids = new Set((control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
  if (on) ids.add(id);
  else ids.delete(id);
  if (ids.size) control.setAttribute("aria-describedby", [...ids].join(" "));
  else control.removeAttribute("aria-describedby");
}

function attach(control, message) {
  const id = `${control.id}-error`;
  let note = document.getElementById(id);
  if (!note) {
    note = document.createElement("p");
    note.id = id;
    note.className = "field-error";
    (control.closest(".field") || control.parentElement).append(note);
  }
  note.textContent = note.textContent ? `${note.textContent}; ${message}` : message;
  control.setAttribute("aria-invalid", "true");
  describe(control, id, true);
}

/** Remove the problems shown on `form`. */
export function clearErrors(form) {
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    describe(control, `${control.id}-error`, false);
  }
  for (const note of form.querySelectorAll(".field-error")) note.remove();
  const summary = form.querySelector(".form-errors");
  summary.replaceChildren();
  summary.hidden = true;
}

/** Show an ApiError (or any Error) on `form`: its detail on top, per-field messages by their fields. */
export function showProblem(form, error) {
  clearErrors(form);
  const summary = form.querySelector(".form-errors");
  const head = document.createElement("p");
  head.className = "problem-detail";
  head.textContent = error.status ? `${error.status} ${error.title}: ${error.message}` : error.message;
  const rest = document.createElement("ul");
  let first = null;
  for (const { field, message } of error.errors || []) {
    const control = controlFor(form, String(field));
    if (control) {
      attach(control, message);
      first = first || control;
    } else {
      const item = document.createElement("li");
      item.textContent = `${field}: ${message}`;
      rest.append(item);
    }
  }
  summary.append(head, ...(rest.childElementCount ? [rest] : []));
  summary.hidden = false;
  (first || summary).focus({ preventScroll: false });
}

/** A number input's value, or undefined when empty (the API then takes its default). */
export function numberOf(input) {
  return input.value.trim() === "" ? undefined : Number(input.value);
}
