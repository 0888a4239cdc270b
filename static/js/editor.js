// The draft editor: warn before leaving with unsaved text, refresh the contents and readability
// panel after markdownx's preview, upload images from a file field (keyboard users cannot drag),
// a Markdown toolbar, and a preview that follows the cursor.
(function () {
  "use strict";
  var form = document.getElementById("utkast-skjema");
  if (!form) return;
  var textarea = form.querySelector("textarea[name=body]");
  var title = form.querySelector("input[name=title]");
  var analysis = document.getElementById("analyse");
  var status = document.getElementById("opplasting-status");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var saved = { body: textarea.value, title: title.value };
  // What the script says is written by the server into the form's data attributes, in the
  // interface's language (no JavaScript catalogue needed); the placeholder words it puts into the
  // text are in the text's own målform.
  var say = form.dataset;
  var submitting = false;

  // A conflict page holds text that is not saved yet: leaving it must warn too.
  var unsavedFromServer = document.getElementById("konflikt") !== null;

  function dirty() {
    return unsavedFromServer || textarea.value !== saved.body || title.value !== saved.title;
  }

  form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("beforeunload", function (event) {
    if (!submitting && dirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  function post(url, data) {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrf);
    Object.keys(data).forEach(function (key) { body.append(key, data[key]); });
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest" }
    });
  }

  var analyseTimer = null;
  function refreshAnalysis() {
    clearTimeout(analyseTimer);
    analyseTimer = setTimeout(function () {
      post(form.dataset.analyseUrl, { content: textarea.value, title: title.value })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return;
          analysis.innerHTML = html;
          // The headings and sentences quoted are the text's own, in the text's målform.
          analysis.querySelectorAll(".toc-list, .long-sentences").forEach(function (list) {
            list.lang = say.textLanguage;
          });
        })
        .catch(function () { /* The server-rendered panel stays; it refreshes on save. */ });
    }, 300);
  }
  var editorBox = textarea.closest(".markdownx");
  if (editorBox) editorBox.addEventListener("markdownx.update", refreshAnalysis);

  // markdownx inserts "Invalid response" into the text when an upload is refused; take it out
  // again and say why instead.
  function showUploadError(detail) {
    var errors = detail && detail[0] && detail[0].image;
    status.textContent = errors ? errors.join(" ") : say.uploadFailed;
    setTimeout(function () {
      textarea.value = textarea.value.replace("Invalid response", "");
    }, 0);
  }
  if (editorBox) {
    editorBox.addEventListener("markdownx.fileUploadError", function (event) { showUploadError(event.detail); });
    editorBox.addEventListener("markdownx.fileUploadEnd", function () {
      status.textContent = say.uploaded;
    });
  }

  // The toolbar: Markdown for those who do not know it, applied to the selection or the line.
  var toolbar = form.querySelector(".md-toolbar");
  function replaceSelection(before, after, placeholder) {
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    var chosen = textarea.value.slice(start, end) || placeholder;
    textarea.setRangeText(before + chosen + after, start, end, "end");
    textarea.setSelectionRange(start + before.length, start + before.length + chosen.length);
  }
  function prefixLines(prefix) {
    var value = textarea.value;
    var start = value.lastIndexOf("\n", textarea.selectionStart - 1) + 1;
    var end = value.indexOf("\n", textarea.selectionEnd);
    if (end === -1) end = value.length;
    var n = 0;
    var lines = value.slice(start, end).split("\n").map(function (line) {
      n += 1;
      var bare = line.replace(/^(#{1,6} |- |\d+\. )/, "");
      return (typeof prefix === "function" ? prefix(n) : prefix) + bare;
    });
    textarea.setRangeText(lines.join("\n"), start, end, "select");
  }
  var actions = {
    heading: function () { prefixLines("## "); },
    bold: function () { replaceSelection("**", "**", say.boldPlaceholder); },
    italic: function () { replaceSelection("_", "_", say.italicPlaceholder); },
    list: function () { prefixLines("- "); },
    numbered: function () { prefixLines(function (n) { return n + ". "; }); },
    link: function () { replaceSelection("[", "](https://)", say.linkPlaceholder); }
  };
  if (toolbar) {
    toolbar.hidden = false;
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-md]");
      if (!button) return;
      textarea.focus();
      actions[button.dataset.md]();
      // markdownx refreshes its preview on input, as if the editor had typed it.
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  // The preview follows the cursor: it scrolls to the heading the cursor is under.
  var previewBox = form.querySelector(".editor-preview");
  var preview = form.querySelector(".markdownx-preview");
  function followCursor() {
    if (!previewBox || !preview) return;
    var before = textarea.value.slice(0, textarea.selectionStart);
    var headings = (before.match(/^#{1,6} /gm) || []).length;
    var target = headings ? preview.querySelectorAll("h1, h2, h3, h4, h5, h6")[headings - 1] : null;
    var top = 0;
    if (target) {
      // Where the heading is inside the scrolling box, whatever the page's own scroll.
      top = previewBox.scrollTop + target.getBoundingClientRect().top - previewBox.getBoundingClientRect().top - 8;
    } else if (headings) {
      // The preview has not caught up yet: scroll as far down as the cursor is in the text.
      top = (before.length / Math.max(textarea.value.length, 1)) * preview.scrollHeight;
    }
    previewBox.scrollTop = Math.max(top, 0);
  }
  ["keyup", "click", "select"].forEach(function (name) {
    textarea.addEventListener(name, followCursor);
  });
  if (editorBox) editorBox.addEventListener("markdownx.update", followCursor);

  var uploadField = document.getElementById("bildeopplasting");
  var fileInput = document.getElementById("bilde");
  if (uploadField && fileInput) {
    uploadField.hidden = false;
    fileInput.addEventListener("change", function () {
      if (!fileInput.files.length) return;
      status.textContent = say.uploading;
      post(form.dataset.uploadUrl, { image: fileInput.files[0], sprak: say.textLanguage || "" })
        .then(function (response) {
          // An image over nginx's own body limit is refused by nginx with an HTML page, before the
          // app can answer with its JSON message: say why, not only that the upload failed.
          return response.json().catch(function () {
            return { image: [response.status === 413 ? say.uploadTooLarge : say.uploadFailed] };
          });
        })
        .then(function (data) {
          if (data.image_code) {
            var start = textarea.selectionStart;
            textarea.value = textarea.value.slice(0, start) + "\n" + data.image_code + "\n" + textarea.value.slice(textarea.selectionEnd);
            textarea.dispatchEvent(new Event("input", { bubbles: true }));
            status.textContent = say.inserted;
          } else {
            status.textContent = (data.image || [say.uploadFailed]).join(" ");
          }
        })
        .catch(function () { status.textContent = say.uploadFailed; })
        .then(function () { fileInput.value = ""; });
    });
  }
})();
