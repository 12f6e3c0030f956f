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
// --- times and time zones (activity page's zone form) ---
// The server writes times in the zone the user chose, or in UTC with the
// zone named. With none chosen (no data-zone on <html>), show each
// <time datetime> in this browser's zone, named the same way.
(() => {
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  let zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  // zoneName is "CET", "EDT", or "UTC+5:30" where the browser knows no
  // abbreviation (it writes "GMT+5:30").
  const names = ["en-GB", "en-US"].map((l) => new Intl.DateTimeFormat(l, { timeZone: zone, timeZoneName: "short" }));
  const zoneName = (d) => {
    let name = "";
    for (const f of names) {
      name = f.formatToParts(d).find((p) => p.type === "timeZoneName")?.value || "";
      if (!/^GMT[+-]/.test(name)) break;
    }
    return name.replace(/^GMT(?=[+-])/, "UTC").replace(/^GMT$/, "UTC");
  };
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  const format = (d) => {
    const p = Object.fromEntries(parts.formatToParts(d).map((x) => [x.type, x.value]));
    return `${Number(p.day)} ${months[Number(p.month) - 1]} ${p.year}, ${p.hour}:${p.minute} ${zoneName(d)}`;
  };
  if (!document.documentElement.dataset.zone) {
    for (const el of document.querySelectorAll("time[datetime]")) {
      const d = new Date(el.dateTime);
      if (!Number.isNaN(d.getTime()) && el.dateTime.includes("T")) el.textContent = format(d);
    }
  }

  // The zone form: offer every zone the browser knows, and this
  // browser's zone as the value when the user has not chosen one.
  const input = document.querySelector("input[list=zone-names]");
  const list = document.getElementById("zone-names");
  if (!input || !list) return;
  if (typeof Intl.supportedValuesOf === "function") {
    for (const name of ["UTC", ...Intl.supportedValuesOf("timeZone")]) {
      list.append(new Option(name));
    }
  }
  if (input.hasAttribute("data-offer-browser-zone") && input.value === "") {
    input.value = zone;
    const said = document.querySelector(".browser-zone");
    if (said) {
      said.textContent = ` (${zone})`;
      said.hidden = false;
    }
  }
})();
// --- Import with progress (collection page) ---
// The import form is sent with XMLHttpRequest (fetch reports no upload
// progress): a bar shows how much of the file went up, then "Importing…"
// until the answer, whose page then takes this one's place (at this
// page's address, so that a reload imports nothing). A file over the
// server's limit is refused before it is sent.
(() => {
  const size = (n) => {
    if (n < 1024) return `${n} bytes`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
    if (n < 1024 * 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
    return `${(n / (1024 * 1024 * 1024)).toFixed(1)} GB`;
  };

  // The summary of an import is what its answer is about: the focus goes
  // there (or, after a refused upload, to why), so that a screen reader
  // starts there.
  const focusResult = (refused) => {
    const el = document.getElementById("import-summary") || (refused && document.querySelector("main .error"));
    if (el) {
      el.tabIndex = -1;
      el.focus();
    }
  };

  // show puts the answer's page in place of this one. Its scripts do not
  // run again: this one enhances the new form itself.
  const show = (html) => {
    const doc = new DOMParser().parseFromString(html, "text/html");
    document.title = doc.title;
    document.body.replaceWith(document.adoptNode(doc.body));
    enhance();
    focusResult(true);
  };

  const send = (form, file) => {
    const box = form.querySelector(".import-progress");
    const bar = form.querySelector("progress");
    const label = form.querySelector(".import-progress label");
    const amount = form.querySelector(".import-progress .hint");
    const status = form.querySelector(".import-status");
    const button = form.querySelector("button[type=submit]");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", (ev) => {
      if (!ev.lengthComputable) return;
      bar.max = ev.total;
      bar.value = ev.loaded;
      amount.textContent = `${Math.floor((100 * ev.loaded) / ev.total)}% (${size(ev.loaded)} of ${size(ev.total)})`;
    });
    xhr.upload.addEventListener("load", () => {
      label.textContent = `Importing ${file.name}…`;
      bar.removeAttribute("value"); // the server's work has no measure here: an indeterminate bar
      amount.textContent = "";
      status.textContent = `Uploaded ${file.name}. Importing…`;
    });
    xhr.addEventListener("load", () => show(xhr.responseText));
    const failed = () => {
      box.hidden = true;
      button.disabled = false;
      status.textContent = `The upload of ${file.name} stopped: the connection to the server broke. What arrived may have been imported; importing the file again adds none of it twice.`;
    };
    xhr.addEventListener("error", failed);
    xhr.addEventListener("abort", failed);
    label.textContent = `Uploading ${file.name}`;
    bar.max = 100;
    bar.value = 0;
    amount.textContent = "";
    box.hidden = false;
    button.disabled = true;
    status.textContent = `Uploading ${file.name}…`;
    xhr.send(new FormData(form));
  };

  const enhance = () => {
    for (const form of document.querySelectorAll("form[data-import]")) {
      form.addEventListener("submit", (e) => {
        const file = form.elements.file.files[0];
        if (!file) return;
        e.preventDefault();
        const max = Number(form.dataset.maxUpload);
        if (max > 0 && file.size > max) {
          form.querySelector(".import-status").textContent =
            `${file.name} is ${size(file.size)}; this server accepts at most ${size(max)}. Split it into smaller files.`;
          return;
        }
        send(form, file);
      });
    }
  };

  enhance();
  focusResult(false);
})();
// --- end import with progress ---
