// What a task is, as read from a declarative task file (tasks/*.yaml or .json): where its items
// come from, the prompts of each condition and round, how answers are parsed and scored.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "store/records.h"

namespace isc::tasks {

// One dataset item. The store's ItemRecord already holds everything a task needs (id, category,
// options, gold index, and a `fields` object with whatever the prompts and metrics reference), so
// items are written to the store as they are loaded.
using TaskItem = isc::ItemRecord;

enum class TaskKind { multiple_choice, open_generation, classification };

// How the model's reply is turned into an answer (see answer_parser.h).
enum class ParserKind {
  option,      // option label or option text -> option index
  pronoun,     // they/he/she (and their other forms) -> option index of the matching class
  completion,  // the text after a marker such as "Completion:" (open generation)
};

// A named prompting condition. Templates use {field} placeholders (see prompt_render.h).
struct Condition {
  std::string name;
  std::string system;            // system message of the conversation; empty = template default
  std::string round1_template;   // user turn of round 1
  std::string roundk_template;   // user turn of every round after the first
  std::string round1_prefill;    // assistant turn opened with this text in round 1
  std::string roundk_prefill;    // ... and in every later round
  // Round schedule: rounds whose user turn and/or pre-fill differ from the above (e.g. an opposite
  // instruction injected at rounds 2, 5 and 8). An empty string keeps the normal one.
  struct RoundOverride {
    std::string user;
    std::string prefill;
  };
  std::map<int, RoundOverride> overrides;
};

struct DatasetSpec {
  // bbq_jsonl | mc_jsonl | open_jsonl | wikibio_json | realtoxicity_jsonl | jailbreak_csv |
  // winogender_blanks | winogender_tsv
  std::string format;
  // Paths as written in the task file; resolved when items are loaded (see data_path.h), so a task
  // file can be read and checked on a machine that lacks the data.
  std::string path;             // a file, or a folder whose *.jsonl / *.json files are read in name order
  std::string sentences_path;   // winogender_blanks: all_sentences.tsv to find each line's occupation (optional)
  std::string occupations_path; // winogender_*: occupations-stats.tsv (optional)
  std::string base_file;        // the task file the paths are relative to
  std::string position;         // "file:line:col" of the dataset entry, for errors
  // Only items whose field has one of the listed values are kept (e.g. context_condition: [ambig]).
  std::map<std::string, std::vector<std::string>> filters;
  // mc_jsonl / open_jsonl: names of the JSON fields of a line.
  std::string id_field;          // empty = "line N"
  std::string question_field = "question";
  std::string options_field = "options";   // array of strings
  std::string answer_field = "answer";     // index (0-based int) or label ("b") or option text
  std::string category_field;              // empty = none
  std::string prompt_field = "prompt";     // open_jsonl: the field exposed as {prompt}
};

struct ParserSpec {
  ParserKind kind = ParserKind::option;
  std::string marker = "Completion:";  // completion parser: answer follows the last marker
};

struct TaskSpec {
  std::string name;
  std::string file;              // the task file it was read from (for error messages)
  TaskKind kind = TaskKind::multiple_choice;
  DatasetSpec dataset;
  std::vector<Condition> conditions;
  int rounds = 1;
  int max_new_tokens_round1 = 128;
  int max_new_tokens_roundk = 128;
  std::vector<std::string> stop;              // extra stop strings for generation
  std::vector<std::string> option_labels;     // e.g. "(a)", "(b)", "(c)"
  std::string continuation_prefix = " ";      // scored continuation = prefix + label, e.g. " (a)"
  ParserSpec parser;
  std::string scorer;            // accuracy | pronoun | toxicity | word_list | none
  // scorer toxicity: the offline model file (scripts/export_toxicity_model.py) used when no other
  // scorer is chosen; as written in the task file, resolved like dataset paths when used.
  std::string toxicity_model;
  // scorer word_list: the words whose share in an answer is its score (lowercase, sorted, unique),
  // read from the task file's word_list file (one word a line, '#' starts a comment).
  std::string word_list_file;
  std::vector<std::string> scorer_words;

  const Condition& condition(const std::string& name) const;  // throws isc::Error if unknown
};

const char* to_string(TaskKind kind);
const char* to_string(ParserKind kind);

}  // namespace isc::tasks
