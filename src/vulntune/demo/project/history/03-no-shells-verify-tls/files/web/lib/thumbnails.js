"use strict";

const { exec, execFile } = require("child_process");

// Thumbnails of uploaded label scans, made with ImageMagick.
function create(source, done) {
  const target = `${source}.thumb.png`;
  execFile("convert", [source, "-resize", "200x200", target], (error) => done(error, target));
}

function toPdf(source, done) {
  const target = `${source}.pdf`;
  exec("convert " + source + " " + target, (error) => done(error, target));
}

module.exports = { create, toPdf };
