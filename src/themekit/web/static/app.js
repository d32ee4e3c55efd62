// themekit review: keyboard decisions, coding selected text, undo, the review queue's cards. Every request carries
// the session's token.
//
// Keys are never dropped: each key acts at once on the page (the card it decides is marked, the next open card is
// shown), and what it sends to the server waits in one line, sent one at a time in the order the keys were pressed.
// A decision is bound to the card shown when its key was pressed, not to whatever is focused when an earlier save
// returns. A save that fails for want of the server is shown and tried again, the keys after it waiting behind it; a
// decision the server refuses (the coding was decided since in another tab, a code that is not in the codebook) is
// shown on its card and in the message line, never skipped in silence.
"use strict";
(function () {
  const token = document.querySelector('meta[name="themekit-token"]').content;
  const picker = document.getElementById("picker");
  const pickerInput = document.getElementById("picker-input");
  const pickerNote = document.getElementById("picker-note");
  const toast = document.getElementById("toast");
  const saves = document.getElementById("saves");
  const queueBox = document.getElementById("queue");
  const pageSize = queueBox ? +queueBox.dataset.page || 40 : 0; // cards the queue asks for at a time
  let items = [];
  let current = -1; // the card shown; on the queue, items.length means "the next card to come"
  let pendingNote = "";
  const line = []; // what the keys asked for, in the order pressed; line[0] is being sent
  let sending = false;
  const waiting = new Map(); // coding id → decisions on it not yet saved
  let saved = 0;
  let refused = 0;
  let moreWanted = false; // the queue: more cards asked for and not yet come
  let noMore = false; // the queue: the server had no more cards

  function say(text, bad) {
    toast.textContent = text;
    toast.className = bad ? "show bad" : "show";
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { toast.className = ""; }, bad ? 8000 : 2500);
  }

  function showSaves(problem) {
    const left = line.filter((task) => task.run === runDecision || task.run === runCode).length;
    saves.dataset.waiting = String(left);
    saves.dataset.saved = String(saved);
    saves.dataset.failed = String(refused);
    let text = problem || (left ? "Saving: " + left + " decision(s) waiting" : saved ? "All " + saved + " decision(s) saved" : "");
    if (refused && !problem) text += " · " + refused + " not recorded (see the marked cards)";
    saves.textContent = text;
    saves.className = problem ? "show bad" : text ? "show" : "";
  }

  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

  function collect() {
    items = Array.from(document.querySelectorAll("main .chip[data-id]"));
    for (const el of items) el.classList.toggle("pending", (waiting.get(el.dataset.id) || 0) > 0);
  }

  function byId(id) { return items.find((el) => el.dataset.id === id) || null; }

  function focusItem(k) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, k));
    items.forEach((el) => el.classList.remove("focus"));
    const el = items[current];
    const next = document.getElementById("queue-next");
    if (next) next.hidden = true;
    el.classList.add("focus");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "center", behavior: "instant" });
  }

  // The queue: past its last card, the next key is for the card that comes next (slot ``k``, counted from the first).
  function pastEnd(k) {
    current = k;
    items.forEach((el) => el.classList.remove("focus"));
    const next = document.getElementById("queue-next");
    if (next) { next.hidden = false; next.scrollIntoView({ block: "center", behavior: "instant" }); }
  }

  function isOpen(el) { return el.dataset.status === "suggested" && !(waiting.get(el.dataset.id) > 0); }

  function nextOpen(from, step) {
    for (let k = from + step; k >= 0 && k < items.length; k += step) {
      if (isOpen(items[k])) return k;
    }
    return -1;
  }

  function setStatus(el, status, seen) {
    el.dataset.status = status;
    el.className = el.className.replace(/\b(suggested|accepted|rejected|human|gone)\b/g, "").replace(/\s+/g, " ").trim() + " " + status;
    if (el.classList.contains("card")) el.classList.toggle("decided", status !== "suggested");
    if (seen !== undefined) el.dataset.seen = String(seen);
  }

  // -- the line of requests ------------------------------------------------------------------------------------------

  function enqueue(task) {
    line.push(task);
    if (task.id) { waiting.set(task.id, (waiting.get(task.id) || 0) + 1); const el = byId(task.id); if (el) el.classList.add("pending"); }
    showSaves();
    pump();
  }

  async function pump() {
    if (sending) return;
    sending = true;
    while (line.length) {
      const task = line[0];
      try { await task.run(task); } catch (e) { say("themekit review: " + e, true); }
      line.shift();
      if (task.id) {
        const left = (waiting.get(task.id) || 1) - 1;
        if (left > 0) waiting.set(task.id, left); else waiting.delete(task.id);
        const el = byId(task.id);
        if (el) el.classList.toggle("pending", left > 0);
      }
      showSaves();
    }
    sending = false;
  }

  // POST until the server answers: a network failure or an answer that is not the app's is retried (shown, the keys
  // after it waiting), an answer of the app's (done or refused with a message) ends it.
  async function send(url, body, what) {
    for (let attempt = 0; ; attempt++) {
      let problem;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Themekit-Token": token },
          body: JSON.stringify(body),
        });
        const data = await response.json().catch(() => null);
        if (data && (response.ok || (response.status >= 400 && response.status < 500 && data.error))) {
          return { status: response.status, data: data };
        }
        problem = "the server answered " + response.status;
      } catch (e) {
        problem = "the server cannot be reached: is 'themekit review serve' still running?";
      }
      const wait = Math.min(8000, 500 * 2 ** attempt);
      showSaves("Not saved yet (" + what + "): " + problem + " Trying again in " + Math.round(wait / 1000) + " s; the keys after it wait.");
      await sleep(wait);
    }
  }

  function refusedOn(el, message) {
    refused += 1;
    say(message, true);
    if (el) { el.classList.add("refused"); el.title = message; }
  }

  function applyStatuses(data) {
    for (const [id, status] of Object.entries(data.statuses || {})) {
      const el = byId(id);
      if (el && !el.classList.contains("card")) setStatus(el, status);
    }
  }

  const VERBS = { accept: "Accepted", reject: "Rejected", change: "Changed", add: "Added a code beside" };

  async function runDecision(task) {
    const el = task.id ? byId(task.id) : items[task.slot];
    if (!el) {
      refusedOn(null, task.id ? "That coding is no longer on this page; nothing was recorded." : "No card left to decide: the queue is done.");
      return;
    }
    const label = el.dataset.label || el.dataset.code;
    const body = { id: el.dataset.id, decision: task.decision, code: task.code || null, note: task.note, seen: +el.dataset.seen || 0 };
    const answer = await send("/api/decide", body, task.decision + " " + label);
    const data = answer.data;
    applyStatuses(data);
    if (answer.status === 200) {
      saved += 1;
      el.classList.remove("refused", "stale");
      setStatus(el, data.status || el.dataset.status, data.seen);
      const mark = el.querySelector(".saved-note");
      if (mark) mark.textContent = " · " + (VERBS[task.decision] || task.decision).toLowerCase() + ", saved";
      say((VERBS[task.decision] || task.decision) + " " + label + (task.code ? " → " + task.code : "") + " · saved · u to undo");
      if (task.decision === "change" || task.decision === "add") await refresh();
      return;
    }
    if (answer.status === 409) {
      setStatus(el, data.status, data.seen);
      el.classList.add("stale");
    }
    refusedOn(el, data.error);
  }

  async function runCode(task) {
    const answer = await send("/api/code", task.body, "code the selection");
    if (answer.status !== 200) { refusedOn(null, answer.data.error); return; }
    saved += 1;
    say("Coded the selection as " + task.body.code + " · saved · u to undo");
    await refresh();
  }

  async function runUndo() {
    const answer = await send("/api/undo", {}, "undo");
    const data = answer.data;
    if (answer.status !== 200) { say(data.error, true); return; }
    say("Undone: " + data.code + " in " + data.transcript + " is as before your " + "last decision");
    applyStatuses(data);
    const el = data.id ? byId(data.id) : null;
    if (el) { el.classList.remove("refused", "stale"); setStatus(el, data.status, data.seen); }
    if (!queueBox) await refresh();
    const k = data.id ? items.findIndex((x) => x.dataset.id === data.id) : -1;
    if (k >= 0) focusItem(k);
  }

  // The transcript drawn again from the server (after a change, an added code, a coded selection or an undo), in
  // place: keys pressed meanwhile wait in the line, bound to their codings by id.
  async function refresh() {
    if (queueBox) return;
    const focused = items[current] ? items[current].dataset.id : null;
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(location.pathname + location.search);
        if (response.ok) {
          const page = new DOMParser().parseFromString(await response.text(), "text/html");
          const fresh = page.querySelector("main");
          if (fresh) { document.querySelector("main").replaceChildren(...fresh.childNodes); break; }
        }
      } catch (e) { /* tried again below */ }
      showSaves("The page could not be drawn again; trying again in 1 s.");
      await sleep(1000);
    }
    collect();
    const k = focused ? items.findIndex((el) => el.dataset.id === focused) : -1;
    if (k >= 0) focusItem(k);
  }

  // -- keys --------------------------------------------------------------------------------------------------------

  function decideKey(decision, code, note) {
    const el = items[current];
    if (!el && !(queueBox && current >= items.length && items.length)) {
      say(queueBox && !items.length ? "No card is shown yet: the queue is being built" : "Move to a coding first (j / k)", true);
      return;
    }
    const task = { run: runDecision, decision: decision, code: code, note: note !== undefined ? note : pendingNote };
    pendingNote = "";
    if (el) task.id = el.dataset.id; else task.slot = current;
    enqueue(task);
    // the next key acts on the next open card, shown now
    const k = el ? nextOpen(current, 1) : -1;
    if (k >= 0) focusItem(k);
    else if (queueBox) pastEnd(el ? items.length : current + 1);
    if (queueBox) wantMore();
  }

  // The queue: more cards asked for while few open ones are left, after the decisions before it are saved.
  function wantMore() {
    if (moreWanted || noMore) return;
    let open = 0;
    for (let k = Math.max(0, current); k < items.length; k++) if (isOpen(items[k])) open++;
    if (open >= Math.min(10, pageSize)) return;
    moreWanted = true;
    enqueue({ run: loadMore });
  }

  async function loadMore() {
    const data = await getQueue(items.length + pageSize);
    moreWanted = false;
    if (!data || !data.ready) return;
    const before = items.length;
    showQueue(data, true);
    if (items.length === before) {
      noMore = true;
      const next = document.getElementById("queue-next");
      if (next) next.textContent = "No more cards: every suggestion in the queue is decided or shown above.";
    }
    if (current >= before && items[current]) focusItem(current);
    else if (current >= items.length) pastEnd(current);
  }

  function pick(title, withCode, done) {
    document.getElementById("picker-title").textContent = title;
    pickerInput.value = "";
    pickerNote.value = pendingNote;
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
    pick("Code the selected text", true, (code, note) => {
      if (!code) return;
      enqueue({ run: runCode, body: Object.assign(span, { code: code, note: note }) });
    });
  }

  function pickFor(title, decision) {
    const el = items[current];
    if (!el) { say("Move to a coding first (j / k)", true); return; }
    pick(title + " " + (el.dataset.label || el.dataset.code) + (decision === "change" ? " to" : ""), true, (code, note) => {
      if (!code) return;
      const k = items.indexOf(el);
      if (k >= 0) current = k;
      decideKey(decision, code, note);
    });
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
      a: () => decideKey("accept"),
      r: () => decideKey("reject"),
      c: () => pickFor("Change", "change"),
      "+": () => pickFor("Add a code beside", "add"),
      n: () => pick("Note for your next decision", false, (_, note) => { pendingNote = note; if (note) say("The note goes with your next decision"); }),
      s: codeSelection,
      u: () => enqueue({ run: runUndo }),
      "/": () => document.querySelector(".search input").focus(),
    };
    const act = keys[e.key];
    if (act) { e.preventDefault(); act(); }
  });

  document.addEventListener("click", (e) => {
    const chip = e.target.closest && e.target.closest("main .chip[data-id]");
    if (chip) focusItem(items.indexOf(chip));
  });

  // -- the review queue: its cards come when its learner is built --------------------------------------------------

  async function getQueue(limit) {
    for (let attempt = 0; attempt < 1000; attempt++) {
      try {
        const response = await fetch("/api/queue?limit=" + limit, { headers: { "X-Themekit-Token": token } });
        const data = await response.json().catch(() => null);
        if (data && response.ok) return data;
        if (data && data.error) { say(data.error, true); return null; }
      } catch (e) { /* tried again below */ }
      showSaves("The queue cannot be read from the server; trying again in 2 s.");
      await sleep(2000);
    }
    return null;
  }

  function showQueue(data, append) {
    document.getElementById("queue-summary").innerHTML = data.summary;
    document.getElementById("queue-status").innerHTML = data.status;
    if (data.cards === undefined) return;
    const list = queueBox.querySelector("ol.queue");
    const have = new Set(items.map((el) => el.dataset.id));
    const fresh = new DOMParser().parseFromString("<ol>" + data.cards + "</ol>", "text/html").querySelectorAll("li.card");
    if (!append) list.replaceChildren();
    for (const card of fresh) if (!have.has(card.dataset.id)) list.appendChild(document.adoptNode(card));
    let next = document.getElementById("queue-next");
    if (!next) {
      next = document.createElement("li");
      next.id = "queue-next";
      next.className = "card next";
      next.textContent = "The next cards are coming…";
    }
    list.appendChild(next);
    collect();
    next.hidden = current < items.length;
    next.textContent = noMore ? "No more cards: every suggestion in the queue is decided or shown above." : "The next cards are coming…";
  }

  async function startQueue() {
    const progress = document.getElementById("queue-progress");
    if (queueBox.dataset.ready !== "1") {
      for (;;) {
        const data = await getQueue(pageSize);
        if (!data) return;
        if (data.ready) { if (progress) progress.remove(); queueBox.dataset.ready = "1"; showQueue(data, false); break; }
        if (data.error) { progress.innerHTML = ""; progress.append(data.error + " Reload the page to try again."); return; }
        progress.textContent = data.progress + ". The cards come as soon as it is built; the first time takes longest.";
        await sleep(400);
      }
    } else {
      showQueue({ summary: document.getElementById("queue-summary").innerHTML, status: document.getElementById("queue-status").innerHTML, cards: "" }, true);
    }
    const k = nextOpen(-1, 1);
    if (k >= 0) focusItem(k);
    // the learner's training and agreement, as they change
    for (;;) {
      await sleep(3000);
      const data = await getQueue(0);
      if (data && data.ready) showQueue({ summary: data.summary, status: data.status }, true);
    }
  }

  collect();
  if (queueBox) {
    startQueue();
  } else if (!location.hash) {
    const k = nextOpen(-1, 1);
    if (k >= 0) focusItem(k);
  }
})();
