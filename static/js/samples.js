// Code samples panel (templates/operations/_samples.html): ask for new samples when
// the Try it form changes, keep the chosen language, copy a sample or a share link.
// Delegated listeners, so they keep working after htmx swaps the Try it card.
(() => {
  const STORAGE_KEY = "portal.samples.lang";
  const panelForm = () => document.getElementById("samples-form");
  const langInput = () => document.querySelector("#samples-form [data-samples-lang]");

  // Before htmx loads the first samples (it starts on DOMContentLoaded, after this
  // deferred script), so that they open on the reader's language.
  try {
    const saved = window.localStorage.getItem(STORAGE_KEY);
    if (saved && langInput()) langInput().value = saved;
  } catch {
    // Storage may be disabled; the first tab is fine.
  }

  // The panel's hx-trigger debounces "samples-refresh" (delay:400ms).
  const refresh = () => {
    const form = panelForm();
    if (form) form.dispatchEvent(new Event("samples-refresh"));
  };
  const inTryItForm = (element) => element instanceof Element && element.closest("#try-it form");

  document.addEventListener("input", (event) => {
    if (inTryItForm(event.target)) refresh();
  });
  document.addEventListener("change", (event) => {
    if (inTryItForm(event.target)) refresh();
  });
  // The Content type select swaps in another body editor: the request changed once it
  // is there, not at the select's change.
  document.addEventListener("htmx:afterSwap", (event) => {
    const source = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source instanceof Element && source.matches("[data-content-type-select]")) refresh();
  });

  const copy = async (text, button) => {
    const { copy: copyText, flash } = window.portalClipboard;
    flash(button, (await copyText(text)) ? "Copied" : "Copy failed");
  };

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;

    // portal.js has removed the row already (its listener was added first): the
    // request changed without an input event.
    if (target.closest("[data-remove-header]")) {
      refresh();
      return;
    }

    const tab = target.closest("[data-sample-lang]");
    if (tab) {
      const input = langInput();
      if (input) input.value = tab.dataset.sampleLang;
      try {
        window.localStorage.setItem(STORAGE_KEY, tab.dataset.sampleLang);
      } catch {
        // Not remembered across pages; the panel still keeps it.
      }
      return;
    }

    const copySample = target.closest("[data-copy-sample]");
    if (copySample) {
      const code = copySample.closest("[data-sample]").querySelector("pre code");
      copy(code.textContent, copySample);
      return;
    }

    const copyLink = target.closest("[data-copy-link]");
    if (copyLink) {
      const link = document.querySelector("#samples-body [data-share-url]");
      copy(link ? link.value : window.location.href, copyLink);
    }
  });
})();
