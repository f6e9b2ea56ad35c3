// Turns a condition's templates into the exact user turn and assistant pre-fill of a round.
// Placeholders are {name}; "{{" and "}}" stand for literal braces.
//
// Placeholders an item offers (prompt_fields):
//   every top-level string/number/bool of item.fields, e.g. {context} {question} {sentence} {prompt}
//   {id} {category}
//   {choices}        "(a) text0 (b) text1 (c) text2" (labels from the task file)
//   {option_a} ...   option text by letter; {label_a} ... its label
//   {gold_option}    "(c) text2" (only for items with a gold option); {gold_label} "(c)"; {gold_text} "text2"
#pragma once
#include <map>
#include <string>
#include <vector>

#include "tasks/task_spec.h"

namespace isc::tasks {

// Names used by a template, in order of appearance. Throws isc::Error (message without position)
// for an unterminated or empty placeholder or a stray '}'.
std::vector<std::string> template_placeholders(const std::string& text);

// Replaces each placeholder by its value; an unknown placeholder throws isc::Error
// "<where>: unknown placeholder {name} (known: ...)".
std::string fill_template(const std::string& text, const std::map<std::string, std::string>& values,
                          const std::string& where);

std::map<std::string, std::string> prompt_fields(const TaskSpec& spec, const TaskItem& item);

// `round` is 1-based; round 1 uses the round-1 template, every later round the round-k one.
std::string render_user_turn(const TaskSpec& spec, const Condition& condition, const TaskItem& item, int round);
std::string render_prefill(const TaskSpec& spec, const Condition& condition, const TaskItem& item, int round);
std::string render_system(const TaskSpec& spec, const Condition& condition, const TaskItem& item);

// What the engine scores right after the pre-fill to get each option's probability:
// continuation_prefix + label, e.g. " (a)", " (b)", " (c)". Empty for open generation.
std::vector<std::string> option_continuations(const TaskSpec& spec, const TaskItem& item);

// Max new tokens of a round.
int max_new_tokens(const TaskSpec& spec, int round);

// Renders every template of every condition for `item`, so a bad placeholder fails before a run.
void check_prompts(const TaskSpec& spec, const TaskItem& item);

}  // namespace isc::tasks
