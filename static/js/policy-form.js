// New policy: suggest the address from the title until the editor types one of their own.
(function () {
  "use strict";
  var title = document.getElementById("id_title");
  var slug = document.getElementById("id_slug");
  if (!title || !slug) return;
  var touched = slug.value !== "";
  var map = { "æ": "ae", "ø": "o", "å": "a", "é": "e", "ü": "u", "ä": "a", "ö": "o" };
  function suggest(text) {
    return text.toLowerCase()
      .replace(/[æøåéüäö]/g, function (ch) { return map[ch]; })
      .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80).replace(/-+$/, "");
  }
  slug.addEventListener("input", function () { touched = slug.value !== ""; });
  title.addEventListener("input", function () { if (!touched) slug.value = suggest(title.value); });
})();
