// Connector forms (templates/forms/spec.html): show the chosen oneOf option's fields and
// switch optional objects on and off. A hidden option's fieldset is also disabled, so the
// browser neither checks nor posts its fields. The forms work without this script for
// everything but switching (the server renders the stored or default option).
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
