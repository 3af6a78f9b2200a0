#!/usr/bin/env node
// Scores text with the reference JavaScript port of VADER (npm vader-sentiment, Apache-2.0).
// Input: one text per line on stdin (or the file named as the first argument).
// Output: one line per input: the compound score with 6 decimals... the port rounds it to 4.
'use strict';
const fs = require('fs');
const vader = require('vader-sentiment');

const input = fs.readFileSync(process.argv[2] || 0, 'utf8');
const lines = input.split('\n');
if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
const out = [];
for (const line of lines) {
  out.push(String(vader.SentimentIntensityAnalyzer.polarity_scores(line).compound));
}
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
