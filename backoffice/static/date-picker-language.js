// Flask-Admin's date picker (its date filters) speaks the page's language: its buttons, labels, months, days
// and the word between the two dates of a range, as the server wrote them on this script's tag. The picker has
// no translations of its own and Flask-Admin gives it none, so every call to it receives them.
(function () {
  "use strict";
  var script = document.currentScript;
  var $ = window.jQuery;
  if (!script || !$ || !$.fn.daterangepicker) {
    return;
  }
  var words = JSON.parse(script.getAttribute("data-words"));
  var picker = $.fn.daterangepicker;
  $.fn.daterangepicker = function (options, callback) {
    var given = options || {};
    var localised = $.extend({}, given, { locale: $.extend({}, words.locale, given.locale) });
    if (given.separator) {
      localised.separator = words.separator;
    }
    return picker.call(this, localised, callback);
  };
})();
