// The table behind every chart (and the alerts list): plain DOM, text only, so nothing from the data
// is ever parsed as HTML.

/**
 * Renders a table into `container`: `columns` are { label, numeric?, wrap? }, `rows` arrays of cell
 * texts (or { text, className } for a styled cell). Numeric columns are right-aligned; only `wrap`
 * columns break their text over lines.
 */
export function renderTable(container, { caption, columns, rows }) {
  const table = document.createElement("table");
  if (caption) table.createCaption().textContent = caption;
  const headRow = table.createTHead().insertRow();
  for (const column of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = column.label;
    if (column.numeric) th.className = "num";
    headRow.append(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((cell, index) => {
      const td = tr.insertCell();
      const { text, className } = typeof cell === "object" && cell !== null ? cell : { text: cell };
      td.textContent = text;
      const column = columns[index] ?? {};
      const classes = [column.numeric ? "num" : "", column.wrap ? "wrap" : "", className ?? ""].filter(
        Boolean,
      );
      if (classes.length > 0) td.className = classes.join(" ");
    });
  }
  container.replaceChildren(table);
}
