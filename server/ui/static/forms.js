// Connector forms (templates/forms/spec.html, actors/form.html).
//
// - A oneOf group shows the chosen option's fields; the others' fieldsets are hidden and
//   disabled, so the browser neither checks nor posts them. An optional object's switch turns
//   its fieldset on and off.
// - "Test the connection" runs in the background: the form is posted as it is, and the check's
//   result (#check-result of the page the server answers) is put above the form, which keeps
//   what was typed, secrets included (the server never sends a secret back into a page). When
//   the server finds fields to change, or anything else goes wrong, the form is posted the
//   ordinary way and the server's page shows why.
// Without this script everything but switching options works (the server renders the stored
// or default option, and a test answers with the whole page).
"use strict";

function showChoice(select) {
  const group = select.dataset.choice;
  document.querySelectorAll(`fieldset[data-option-of="${group}"]`).forEach((option) => {
    const on = option.dataset.option === select.value;
    option.hidden = !on;
    option.disabled = !on;
  });
}

document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches("select[data-choice]")) showChoice(target);
  if (target.matches("input[data-switch]")) {
    const fieldset = target.closest("fieldset");
    if (fieldset) fieldset.disabled = !target.checked;
  }
});

function postNormally(form, button) {
  button.dataset.native = "yes";
  form.requestSubmit(button);
}

async function testInBackground(form, button) {
  const body = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string") body.append(name, value);
  }
  body.append("action", "check");
  const label = button.textContent;
  button.disabled = true;
  button.textContent = "Testing…";
  let shown = false;
  try {
    // getAttribute: the buttons named "action" hide the form's own `action` property.
    const response = await fetch(form.getAttribute("action"), {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const result = page.getElementById("check-result");
    const slot = document.getElementById("check-slot");
    if (response.ok && result && slot) {
      // The check ran only because no field was refused: earlier messages are gone.
      form.querySelectorAll(".field-error").forEach((p) => p.remove());
      form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
      slot.replaceChildren(document.importNode(result, true));
      slot.firstElementChild.focus();
      shown = true;
    }
  } catch (error) {
    shown = false;
  }
  // Enabled again before any ordinary post: a disabled button's action would not be sent.
  button.disabled = false;
  button.textContent = label;
  if (!shown) postNormally(form, button);
}

document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (!button || button.name !== "action" || button.value !== "check") return;
  if (button.dataset.native === "yes" || !window.fetch || !window.DOMParser) {
    delete button.dataset.native;
    return;
  }
  event.preventDefault();
  testInBackground(event.target, button);
});
