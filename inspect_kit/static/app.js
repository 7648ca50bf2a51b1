// Progressive enhancement only: every page works without JavaScript.
import { initAll } from "./govuk-frontend/govuk-frontend.min.js";

initAll();

// Case pickers: each <select data-ik-autocomplete> becomes GOV.UK's accessible-autocomplete
// (typing "017" offers C-017). The select stays in the form, hidden, and carries the value;
// without JavaScript, or if the script is missing, the plain select is what people use.
const pickers = document.querySelectorAll("select[data-ik-autocomplete]");
if (pickers.length) {
  const folder = new URL("./accessible-autocomplete/", import.meta.url);
  const style = document.createElement("link");
  style.rel = "stylesheet";
  style.href = new URL("accessible-autocomplete.min.css", folder).href;
  document.head.append(style);
  const script = document.createElement("script");
  script.src = new URL("accessible-autocomplete.min.js", folder).href;
  script.addEventListener("load", () => pickers.forEach(enhance));
  document.head.append(script);
}

function enhance(select) {
  const id = select.id;
  const describedBy = select.getAttribute("aria-describedby");
  window.accessibleAutocomplete.enhanceSelectElement({
    selectElement: select,
    // "No case" / "Any" (the empty option) shows as an empty box, not as text to delete first.
    defaultValue: "",
    showAllValues: true,
    tNoResults: () => "No case matches",
  });
  const input = document.getElementById(id);
  if (!input) return;
  if (describedBy) input.setAttribute("aria-describedby", describedBy);
  if (select.classList.contains("govuk-select--error")) input.classList.add("ik-autocomplete-error");
  // A cleared box means no case: the library would otherwise keep the last case chosen.
  const clearIfEmpty = () => { if (!input.value.trim()) select.value = ""; };
  input.addEventListener("input", clearIfEmpty);
  input.addEventListener("blur", clearIfEmpty);
}
