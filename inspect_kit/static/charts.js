// Draws every chart of the page (templates/_charts.html) with vega-embed from
// the Vega-Lite spec the server put in its data-ik-spec attribute. Loaded with `defer` after
// vega, vega-lite and vega-embed (served from /static/vega).
//
// The pages' Content-Security-Policy allows no eval and no inline styles, so:
// `ast: true` makes Vega interpret its expressions (vega-embed bundles the
// interpreter) instead of compiling them with Function(); `defaultStyle: false`
// and `tooltip: false` keep vega-embed from adding <style> elements (Vega's
// own tooltip, the title attribute, stays); `actions: false` drops the export
// menu. SVG rather than canvas: each mark is an element with an aria-label,
// and it prints sharply.
(function () {
  "use strict";
  if (typeof vegaEmbed !== "function") {
    return; // the library is missing: the tables stay open
  }
  document.querySelectorAll("figure[data-ik-spec]").forEach(function (figure) {
    var canvas = figure.querySelector(".ik-chart__canvas");
    if (!canvas) {
      return;
    }
    canvas.hidden = false;
    vegaEmbed(canvas, JSON.parse(figure.getAttribute("data-ik-spec")), {
      renderer: "svg", actions: false, ast: true, defaultStyle: false, tooltip: false,
    }).then(function () {
      figure.classList.add("ik-chart--drawn");
      var table = figure.querySelector("details.ik-chart__table");
      if (table) {
        table.open = false;
      }
    }).catch(function (error) {
      canvas.hidden = true;
      figure.classList.add("ik-chart--failed");
      if (window.console) {
        console.warn("The chart could not be drawn; its table stays open.", error);
      }
    });
  });
})();
