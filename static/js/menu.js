// The main menu as a "Meny" button on narrow screens. Without this script the menu is always shown.
(function () {
  var button = document.querySelector(".site-menu-button");
  var header = document.querySelector(".site-header");
  if (!button || !header) return;
  button.hidden = false;
  header.classList.add("menu-ready");
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    header.classList.toggle("menu-open", open);
  });
})();
