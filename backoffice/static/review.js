// The review screen's keyboard shortcuts and page navigation. Every action is a plain link or form without
// this script; with it, the PDF changes page without reloading the screen, and Alt+Shift shortcuts reach the
// actions, each said aloud in the page's live region.
(function () {
  "use strict";

  var viewer = document.getElementById("pdf-viewer");
  var pageBox = document.getElementById("page-number");
  var navigation = document.querySelector("[data-testid='page-nav']");
  var announcer = document.getElementById("review-announcer");

  function say(key, page) {
    if (!announcer) return;
    var text = announcer.getAttribute("data-said-" + key) || "";
    announcer.textContent = "";
    // A change of text after a moment is announced even when the same words are said twice.
    window.setTimeout(function () {
      announcer.textContent = text.replace("{page}", String(page || ""));
    }, 30);
  }

  function pageCount() {
    var count = navigation ? parseInt(navigation.getAttribute("data-page-count"), 10) : NaN;
    return isNaN(count) ? null : count;
  }

  function currentPage() {
    var page = pageBox ? parseInt(pageBox.value, 10) : NaN;
    return isNaN(page) ? 1 : page;
  }

  // Load the shown file again at `page`: a new frame, so that the PDF viewer reads the #page=N it is given.
  function showPage(page) {
    if (!viewer) return false;
    var count = pageCount();
    page = Math.max(1, count ? Math.min(page, count) : page);
    var fresh = viewer.cloneNode(false);
    fresh.setAttribute("src", viewer.getAttribute("data-document") + "#page=" + page);
    viewer.parentNode.replaceChild(fresh, viewer);
    viewer = fresh;
    if (pageBox) pageBox.value = String(page);
    updateSteps(page);
    say("page", page);
    return true;
  }

  function updateSteps(page) {
    var count = pageCount();
    document.querySelectorAll("[data-page-step]").forEach(function (link) {
      var step = parseInt(link.getAttribute("data-page-step"), 10);
      var off = step < 0 ? page <= 1 : count !== null && page >= count;
      link.classList.toggle("disabled", off);
      if (off) {
        link.setAttribute("aria-disabled", "true");
        link.setAttribute("tabindex", "-1");
      } else {
        link.removeAttribute("aria-disabled");
        link.removeAttribute("tabindex");
      }
    });
  }

  if (navigation && viewer) {
    navigation.addEventListener("submit", function (event) {
      event.preventDefault();
      showPage(currentPage());
    });
    document.querySelectorAll("[data-page-step]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        showPage(currentPage() + parseInt(link.getAttribute("data-page-step"), 10));
      });
    });
  }

  // A check's "page N" opens that page here when its file is the one shown; another file loads the screen.
  document.querySelectorAll("[data-page-link]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!viewer || link.getAttribute("data-position") !== viewer.getAttribute("data-position")) return;
      event.preventDefault();
      showPage(parseInt(link.getAttribute("data-page"), 10));
      if (navigation.getBoundingClientRect().top < 0) navigation.scrollIntoView({ block: "start" });
    });
  });

  // The link to the decision moves the keyboard's focus there too, not only the view.
  var jump = document.querySelector(".review-jump");
  var panel = document.getElementById("decision-panel");
  if (jump && panel) {
    jump.addEventListener("click", function (event) {
      event.preventDefault();
      panel.scrollIntoView({ block: "start" });
      panel.focus({ preventScroll: true });
    });
  }

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "input") return ["checkbox", "radio", "button", "submit", "reset"].indexOf(target.type) < 0;
    return tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function press(name) {
    var button = document.querySelector("[data-shortcut='" + name + "']");
    if (!button) {
      say("unavailable");
      return;
    }
    say(name);
    button.focus();
    if (name === "reject") {
      var reasons = document.getElementById("rejection-reasons");
      var first = reasons && (reasons.querySelector("input:checked") || reasons.querySelector("input"));
      (first || reasons || button).focus();
      return;
    }
    if (button.form && button.form.requestSubmit) button.form.requestSubmit(button);
    else button.click();
  }

  var SHORTCUTS = {
    KeyJ: function () { if (!showPage(currentPage() + 1)) say("unavailable"); },
    KeyK: function () { if (!showPage(currentPage() - 1)) say("unavailable"); },
    KeyA: function () { press("accept"); },
    KeyR: function () { press("reject"); },
    KeyN: function () { press("next"); },
  };

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return;
    if (typing(event.target)) return;
    var action = SHORTCUTS[event.code];
    if (!action) return;
    event.preventDefault();
    action();
  });
})();
