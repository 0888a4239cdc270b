// The draft editor: warn before leaving with unsaved text, refresh the contents and readability
// panel after markdownx's preview, and upload images from a file field (keyboard users cannot drag).
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
        .then(function (html) { if (html !== null) analysis.innerHTML = html; })
        .catch(function () { /* The server-rendered panel stays; it refreshes on save. */ });
    }, 300);
  }
  var editorBox = textarea.closest(".markdownx");
  if (editorBox) editorBox.addEventListener("markdownx.update", refreshAnalysis);

  // markdownx inserts "Invalid response" into the text when an upload is refused; take it out
  // again and say why instead.
  function showUploadError(detail) {
    var errors = detail && detail[0] && detail[0].image;
    status.textContent = errors ? errors.join(" ") : "Bildet kunne ikke lastes opp.";
    setTimeout(function () {
      textarea.value = textarea.value.replace("Invalid response", "");
    }, 0);
  }
  if (editorBox) {
    editorBox.addEventListener("markdownx.fileUploadError", function (event) { showUploadError(event.detail); });
    editorBox.addEventListener("markdownx.fileUploadEnd", function () {
      status.textContent = "Bildet er lastet opp. Skriv en beskrivelse av bildet mellom klammene.";
    });
  }

  var uploadField = document.getElementById("bildeopplasting");
  var fileInput = document.getElementById("bilde");
  if (uploadField && fileInput) {
    uploadField.hidden = false;
    fileInput.addEventListener("change", function () {
      if (!fileInput.files.length) return;
      status.textContent = "Laster opp …";
      post(form.dataset.uploadUrl, { image: fileInput.files[0] })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (data.image_code) {
            var start = textarea.selectionStart;
            textarea.value = textarea.value.slice(0, start) + "\n" + data.image_code + "\n" + textarea.value.slice(textarea.selectionEnd);
            textarea.dispatchEvent(new Event("input", { bubbles: true }));
            status.textContent = "Bildet er satt inn. Skriv en beskrivelse av bildet mellom klammene.";
          } else {
            status.textContent = (data.image || ["Bildet kunne ikke lastes opp."]).join(" ");
          }
        })
        .catch(function () { status.textContent = "Bildet kunne ikke lastes opp."; })
        .then(function () { fileInput.value = ""; });
    });
  }
})();
