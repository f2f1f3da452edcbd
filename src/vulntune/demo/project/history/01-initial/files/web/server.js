"use strict";

const path = require("path");

const express = require("express");
const fetch = require("node-fetch");

const carrier = require("./lib/carrier");
const thumbnails = require("./lib/thumbnails");

const app = express();
const UPLOADS = path.join(__dirname, "uploads");

if (process.env.NODE_ENV !== "production") {
  // Local API instances run with self-signed certificates.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
}

app.use(express.urlencoded({ extended: false }));

app.get("/search", async (req, res) => {
  const q = req.query.q || "";
  const parcels = await carrier.searchParcels(q);
  const rows = parcels.map((p) => `<li>${p.id}: ${p.status}</li>`).join("");
  res.send(`<h1>Results for ${q}</h1><ul>${rows}</ul>`);
});

app.get("/track/:number", async (req, res) => {
  const status = await carrier.trackingStatus(req.params.number);
  if (!status) {
    res.status(404).send("<p>No parcel with number " + req.params.number + "</p>");
    return;
  }
  res.json(status);
});

// Checks a link that a customer pasted into a delivery note.
app.get("/link-check", async (req, res) => {
  const response = await fetch(req.query.url, { redirect: "manual" });
  res.json({ status: response.status, type: response.headers.get("content-type") });
});

app.post("/thumbnails/:name", (req, res) => {
  thumbnails.create(path.join(UPLOADS, req.params.name), (error, file) => {
    if (error) {
      res.status(500).send("conversion failed");
      return;
    }
    res.sendFile(file);
  });
});

app.get("/uploads/:name", (req, res) => {
  res.sendFile(path.join(UPLOADS, req.params.name));
});

app.post("/password-reset", async (req, res) => {
  const token = Math.random().toString(36).slice(2);
  await carrier.saveResetRequest(req.body.email, token);
  res.send("If the address is registered, a reset link is on its way.");
});

app.get("/login", (req, res) => {
  res.cookie("csrf", Math.random().toString(36).slice(2));
  res.redirect(req.query.next || "/");
});

app.get("/logout", (req, res) => {
  res.clearCookie("session");
  res.redirect(req.query.next || "/");
});

app.listen(process.env.PORT || 3000);
