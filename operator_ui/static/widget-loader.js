// Baton chat widget. Add one line to any page:
//   <script src="https://your-baton-host/widget.js" defer></script>
// It loads the widget module from the same host and talks only to that host.
(function () {
  "use strict";
  if (window.__batonWidget) return;
  window.__batonWidget = true;
  var script = document.currentScript;
  var origin = new URL(script ? script.src : "/widget.js", location.href).origin;
  import(origin + "/ui/js/widget.js")
    .then(function (widget) { widget.boot({origin: origin}); })
    .catch(function (error) { console.error("Baton widget could not load", error); });
})();
