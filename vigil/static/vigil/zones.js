// Zone map: clicking a cell toggles it in the "cells" box. The form works without this.
(function () {
  "use strict";
  var map = document.getElementById("cell-map");
  var box = document.getElementById("id_cells");
  if (!map || !box) { return; }
  function picked() {
    return box.value.split(/[\s,;]+/).filter(function (c) { return c; });
  }
  map.addEventListener("click", function (event) {
    var cell = event.target.closest ? event.target.closest("polygon.cell") : null;
    if (!cell || cell.classList.contains("zip")) { return; }
    var id = cell.getAttribute("data-cell");
    var cells = picked();
    var at = cells.indexOf(id);
    if (at >= 0) {
      cells.splice(at, 1);
      cell.classList.remove("picked");
    } else {
      cells.push(id);
      cell.classList.add("picked");
    }
    box.value = cells.join(" ");
  });
})();
