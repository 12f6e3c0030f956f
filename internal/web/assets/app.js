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

// Review of duplicates: picking a card as the reference swaps in the page
// for that reference where the page is, so that it stays scrolled where it
// was (without JavaScript the link opens the page at the cards, #cards).
document.addEventListener("click", async (e) => {
  const a = e.target.closest("a.dup-pick");
  if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  const y = window.scrollY;
  try {
    const res = await fetch(a.href);
    // A redirect is the sign-in page (the session ended): go there as is.
    if (!res.ok || res.redirected) throw new Error(`status ${res.status}`);
    const next = new DOMParser().parseFromString(await res.text(), "text/html");
    const main = next.querySelector("main");
    if (!main) throw new Error("no main in the page");
    document.querySelector("main").replaceWith(main);
    document.title = next.title;
    const url = new URL(a.href);
    url.hash = "";
    history.replaceState(null, "", url);
    window.scrollTo(0, y);
    document.getElementById("reference")?.focus({ preventScroll: true });
  } catch {
    location.assign(a.href); // the page as without JavaScript
  }
});
