// themekit review: keyboard decisions, coding selected text, undo. Every request carries the session's token.
"use strict";
(function () {
  const token = document.querySelector('meta[name="themekit-token"]').content;
  const picker = document.getElementById("picker");
  const pickerInput = document.getElementById("picker-input");
  const pickerNote = document.getElementById("picker-note");
  const toast = document.getElementById("toast");
  let items = Array.from(document.querySelectorAll(".chip"));
  let current = -1;
  let pendingNote = "";
  let busy = false;

  function say(text, bad) {
    toast.textContent = text;
    toast.className = bad ? "show bad" : "show";
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { toast.className = ""; }, bad ? 6000 : 2500);
  }

  function focusItem(k) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, k));
    items.forEach((el) => el.classList.remove("focus"));
    const el = items[current];
    el.classList.add("focus");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "center", behavior: "instant" });
  }

  function nextOpen(from, step) {
    for (let k = from + step; k >= 0 && k < items.length; k += step) {
      if (items[k].dataset.status === "suggested") return k;
    }
    return -1;
  }

  async function post(url, body) {
    if (busy) return null;
    busy = true;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Themekit-Token": token },
        body: JSON.stringify(body),
      });
      const data = await response.json().catch(() => ({ error: "The server answered " + response.status }));
      if (!response.ok) { say(data.error || "Not recorded", true); return null; }
      return data;
    } catch (e) {
      say("The server cannot be reached: is 'themekit review serve' still running?", true);
      return null;
    } finally {
      busy = false;
    }
  }

  function remember() {
    const el = items[current];
    sessionStorage.setItem("themekit-focus", JSON.stringify({ path: location.pathname, id: el ? el.dataset.id : null, y: scrollY }));
  }

  function reload() { remember(); location.reload(); }

  async function decide(decision, code) {
    const el = items[current];
    if (!el) { say("Move to a coding first (j / k)", true); return; }
    const data = await post("/api/decide", { id: el.dataset.id, decision: decision, code: code || null, note: pendingNote });
    if (!data) return;
    pendingNote = "";
    if (decision === "change" || decision === "add") { reload(); return; }
    for (const chip of items) {
      const status = data.statuses[chip.dataset.id];
      if (status) { chip.dataset.status = status; chip.className = chip.className.replace(/\b(suggested|accepted|rejected|human)\b/g, "") + " " + status; }
    }
    if (el.classList.contains("card")) { el.dataset.status = decision === "accept" ? "accepted" : "rejected"; el.classList.add("decided", el.dataset.status); }
    say((decision === "accept" ? "Accepted " : "Rejected ") + el.dataset.code + " · u to undo");
    const k = nextOpen(current, 1);
    focusItem(k >= 0 ? k : current);
  }

  function pick(title, withCode, done) {
    document.getElementById("picker-title").textContent = title;
    pickerInput.value = "";
    pickerNote.value = withCode ? pendingNote : pendingNote;
    pickerInput.hidden = !withCode;
    picker.showModal();
    (withCode ? pickerInput : pickerNote).focus();
    picker.onclose = () => {
      if (picker.returnValue === "cancel") return;
      done(pickerInput.value.trim(), pickerNote.value.trim());
    };
    picker.returnValue = "";
  }

  function selectionSpan() {
    const sel = window.getSelection();
    const box = document.querySelector(".transcript");
    if (!sel || sel.isCollapsed || !box) return null;
    const range = sel.getRangeAt(0);
    const pieces = Array.from(box.querySelectorAll("span.t")).filter((t) => range.intersectsNode(t));
    if (!pieces.length) return null;
    const first = pieces[0], last = pieces[pieces.length - 1];
    let start = +first.dataset.o, end = +last.dataset.o + last.textContent.length;
    if (first.contains(range.startContainer) && range.startContainer.nodeType === 3) start += range.startOffset;
    if (last.contains(range.endContainer) && range.endContainer.nodeType === 3) end = +last.dataset.o + range.endOffset;
    return end > start ? { transcript: box.dataset.transcript, start: start, end: end } : null;
  }

  function codeSelection() {
    const span = selectionSpan();
    if (!span) { say("Select words in the transcript first", true); return; }
    pick("Code the selected text", true, async (code, note) => {
      if (!code) return;
      const data = await post("/api/code", Object.assign(span, { code: code, note: note }));
      if (data) { pendingNote = ""; reload(); }
    });
  }

  async function undoLast() {
    const data = await post("/api/undo", {});
    if (data) { say("Undone"); reload(); }
  }

  pickerInput.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); picker.close("ok"); } });
  pickerNote.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); picker.close("ok"); } });
  picker.addEventListener("cancel", () => { picker.returnValue = "cancel"; });

  document.addEventListener("keydown", (e) => {
    if (picker.open || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.matches && e.target.matches("input, textarea, select")) return;
    const keys = {
      j: () => focusItem(current + 1),
      k: () => focusItem(current - 1),
      a: () => decide("accept"),
      r: () => decide("reject"),
      c: () => items[current] && pick("Change " + items[current].dataset.code + " to", true, (code, note) => { if (code) { pendingNote = note; decide("change", code); } }),
      "+": () => items[current] && pick("Add a code beside " + items[current].dataset.code, true, (code, note) => { if (code) { pendingNote = note; decide("add", code); } }),
      n: () => pick("Note for your next decision", false, (_, note) => { pendingNote = note; if (note) say("The note goes with your next decision"); }),
      s: codeSelection,
      u: undoLast,
      "/": () => document.querySelector(".search input").focus(),
    };
    const act = keys[e.key];
    if (act) { e.preventDefault(); act(); }
  });

  document.addEventListener("click", (e) => {
    const chip = e.target.closest && e.target.closest(".chip");
    if (chip) focusItem(items.indexOf(chip));
  });

  const saved = JSON.parse(sessionStorage.getItem("themekit-focus") || "null");
  sessionStorage.removeItem("themekit-focus");
  if (saved && saved.path === location.pathname) {
    const k = items.findIndex((el) => el.dataset.id === saved.id);
    window.scrollTo(0, saved.y);
    if (k >= 0) focusItem(k);
  } else if (!location.hash) {
    const k = nextOpen(-1, 1);
    if (k >= 0) focusItem(k);
  }
})();
