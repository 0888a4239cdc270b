// After a form sends the reader to a message further down (e.g. #kvittering after confirming),
// move keyboard and screen-reader focus there too, not only the scroll position.
(function () {
  var id = window.location.hash.slice(1);
  if (!id) return;
  var target = document.getElementById(id);
  if (target && target.hasAttribute("data-focus-target")) target.focus();
})();
