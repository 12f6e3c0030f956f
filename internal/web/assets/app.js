// Progressive enhancements only: every page works without this file.

// Copy buttons are hidden in the markup and shown only where copying works
// (the clipboard needs JavaScript and a secure context).
for (const b of document.querySelectorAll("button[data-copy]")) {
  if (navigator.clipboard) b.hidden = false;
}
document.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-copy]");
  if (!b) return;
  const el = document.getElementById(b.dataset.copy);
  if (el) {
    navigator.clipboard.writeText(el.textContent.trim()).then(() => { b.textContent = "Copied"; });
  }
});
