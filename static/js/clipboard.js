// Copy buttons: copy a text and say on the button whether it worked.
window.portalClipboard = (() => {
  // navigator.clipboard needs a secure context (https or localhost); elsewhere the
  // older selection-and-copy way is tried, with the text in the page for a moment only.
  const copyWithSelection = (text) => {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen-clipboard";
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  };

  const copy = async (text) => {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch {
        return copyWithSelection(text);
      }
    }
    return copyWithSelection(text);
  };

  const flash = (button, text) => {
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = text;
    window.clearTimeout(Number(button.dataset.timer || 0));
    button.dataset.timer = String(
      window.setTimeout(() => {
        button.textContent = label;
      }, 1500),
    );
  };

  return { copy, flash };
})();
