// The OpenAPI document at /openapi.json as a page: each operation by tag,
// with its parameters, request body and answers. Built with DOM calls
// (textContent, never innerHTML), so nothing in the document is run.
"use strict";

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// "#/components/schemas/Account" -> "Account"
function schemaName(schema) {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.type === "array") return schemaName(schema.items) + "[]";
  return schema.type || "object";
}

function table(headings, rows) {
  const node = element("table");
  const head = node.insertRow();
  for (const heading of headings) head.appendChild(element("th", heading));
  for (const row of rows) {
    const line = node.insertRow();
    for (const cell of row) line.insertCell().textContent = cell;
  }
  return node;
}

function operation(method, path, op) {
  const node = element("details");
  node.dataset.operation = method.toUpperCase() + " " + path;
  const summary = element("summary");
  summary.append(element("span", method, "method " + method), element("span", path, "path"));
  if (op.summary) summary.append(" — " + op.summary);
  node.appendChild(summary);
  if (op.description) node.appendChild(element("p", op.description, "description"));
  const parameters = op.parameters || [];
  if (parameters.length) {
    node.appendChild(element("h4", "Parameters"));
    node.appendChild(table(["name", "in", "required", "schema"], parameters.map((p) =>
      [p.name, p.in, p.required ? "yes" : "no", schemaName(p.schema)])));
  }
  const body = op.requestBody && op.requestBody.content;
  if (body) {
    node.appendChild(element("h4", "Request body"));
    node.appendChild(table(["media type", "schema"], Object.entries(body).map(([type, c]) =>
      [type, schemaName(c.schema)])));
  }
  const answers = Object.entries(op.responses || {});
  if (answers.length) {
    node.appendChild(element("h4", "Answers"));
    node.appendChild(table(["status", "description", "media types"], answers.map(([status, r]) =>
      [status, r.description || "", Object.keys(r.content || {}).join(", ")])));
  }
  return node;
}

async function render() {
  const answer = await fetch("/openapi.json");
  if (!answer.ok) throw new Error("/openapi.json answered " + answer.status);
  const api = await answer.json();
  const summary = document.getElementById("summary");
  const info = api.info || {};
  document.title = [info.title || "API reference", info.version].join(" ");
  document.getElementById("title").textContent = document.title;
  summary.textContent = info.description || "";
  const byTag = new Map();
  for (const [path, item] of Object.entries(api.paths || {})) {
    for (const method of ["get", "put", "post", "delete", "patch", "head", "options"]) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(method, path, op));
    }
  }
  const main = document.getElementById("operations");
  for (const [tag, operations] of byTag) {
    const section = element("section");
    section.appendChild(element("h2", tag));
    section.append(...operations);
    main.appendChild(section);
  }
  document.body.dataset.operations = String(main.querySelectorAll("details").length);
}

render().catch((error) => {
  document.getElementById("summary").textContent =
    "Could not show /openapi.json: " + error.message;
});
