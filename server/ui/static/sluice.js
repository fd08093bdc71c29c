// Sluice web UI: the little script the pages use (no framework, no build). Every page works
// without it; with it, a running job's log tails live and destructive buttons ask first.
"use strict";

document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

function tail(log) {
  const url = log.dataset.stream;
  if (!url || !window.EventSource) return;
  const status = document.getElementById(log.dataset.statusId || "job-status");
  const source = new EventSource(url);
  source.addEventListener("line", (event) => {
    // textContent: log lines are shown as text, never parsed as HTML.
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    log.append(document.createTextNode(event.data + "\n"));
    if (atEnd) log.scrollTop = log.scrollHeight;
  });
  source.addEventListener("status", (event) => {
    if (status) {
      status.textContent = event.data;
      status.className = "status status-" + event.data;
    }
  });
  source.addEventListener("end", (event) => {
    source.close();
    if (status) {
      status.textContent = event.data;
      status.className = "status status-" + event.data;
    }
  });
}

document.querySelectorAll("pre.log[data-stream]").forEach(tail);
