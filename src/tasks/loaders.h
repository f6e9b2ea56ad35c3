// The dataset loaders, one per format (one file each). They return every item of the file(s) in
// file order; filtering, sampling, limits and indexing are done once by load_items.
#pragma once
#include <string>
#include <vector>

#include "tasks/item_loader.h"
#include "tasks/task_spec.h"

namespace isc::tasks {

// Dataset paths after resolution (empty when the task file does not name one).
struct DataFiles {
  std::string main;
  std::string sentences;
  std::string occupations;
};

// BBQ JSONL (file, or folder of per-category *.jsonl). Options ans0..ans2, gold = label. Fields:
// context, question, example_id, question_index, question_polarity (neg/nonneg), context_condition
// (ambig/disambig), answer_groups, stereotyped_groups, subcategory, and the bias-score inputs
// unknown_index (the option tagged "unknown" in answer_info) and target_index (the option whose
// answer_info group or name matches additional_metadata.stereotyped_groups; -1 when not exactly one).
std::vector<TaskItem> load_bbq_jsonl(const DatasetSpec& ds, const DataFiles& files, BadLines& bad);

// User multiple-choice JSONL: question/options/answer/id/category field names from the task file;
// answer is a 0-based index, a label letter ("b", "(b)") or the option text. Every other
// top-level field is kept in fields for the prompts.
std::vector<TaskItem> load_mc_jsonl(const DatasetSpec& ds, const DataFiles& files, BadLines& bad);

// User open-generation JSONL: prompt_field is exposed as {prompt}; other fields kept.
std::vector<TaskItem> load_open_jsonl(const DatasetSpec& ds, const DataFiles& files, BadLines& bad);

// SelfCheckGPT WikiBio as a JSON list of {Context, Sentence, Label}; options accurate/inaccurate,
// "minor inaccurate" and "major inaccurate" both map to inaccurate. Fields: context, sentence, label.
std::vector<TaskItem> load_wikibio_json(const DatasetSpec& ds, const DataFiles& files, BadLines& bad);

// RealToxicityPrompts JSONL: prompt.text -> {prompt}; prompt_toxicity and continuation_toxicity
// are null when absent; no options.
std::vector<TaskItem> load_realtoxicity_jsonl(const DatasetSpec& ds, const DataFiles& files, BadLines& bad);

// Harmfulness judging CSV (columns prompt, response, "is harmful?" Yes/No). Options Yes/No.
std::vector<TaskItem> load_jailbreak_csv(const DatasetSpec& ds, const DataFiles& files, BadLines& bad);

// Winogender: options they/he/she, no gold. Fields: sentence (with '_' for the pronoun),
// occupation, participant (when known), bls_pct_female and bergsma_pct_female (when an
// occupations file is given). winogender_blanks reads one blanked sentence a line and, with a
// sentences file (all_sentences.tsv), finds each line's occupation; winogender_tsv reads
// all_sentences.tsv itself and blanks the pronoun of each male variant.
std::vector<TaskItem> load_winogender_blanks(const DatasetSpec& ds, const DataFiles& files, BadLines& bad);
std::vector<TaskItem> load_winogender_tsv(const DatasetSpec& ds, const DataFiles& files, BadLines& bad);

// Plain text, one item per non-blank line: field text, id "line N" (1-based line number).
std::vector<TaskItem> load_text_lines(const DatasetSpec& ds, const DataFiles& files, BadLines& bad);

}  // namespace isc::tasks
