// Turns a model's reply into an answer: an option index (label or option text, robust to
// phrasing), a pronoun class, or the completion after a marker. Pure functions, no model.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "tasks/task_spec.h"

namespace isc::tasks {

enum class PronounClass { none, neutral, male, female };
const char* to_string(PronounClass c);  // "unparseable", "neutral", "male", "female"

struct ParsedAnswer {
  int index = -1;         // option index; -1 when no option was recognised (or open generation)
  std::string text;       // option: the recognised option's label; pronoun: the class name;
                          // completion: the extracted completion
  bool marker_found = false;            // completion: whether the marker occurred
  PronounClass pronoun = PronounClass::none;  // pronoun parser only
};

// Dispatches on spec.parser.kind.
ParsedAnswer parse_answer(const TaskSpec& spec, const TaskItem& item, std::string_view generated);

// The option a reply names, case-insensitively, or -1. Mentions recognised: the label itself
// ("(b)"), its core followed by ')' ("b)"), the core after an answer cue ("answer is b",
// "answer: B", "option b", "choice (b)"), the core alone at the start followed by . : or )
// ("b. ..."), a reply that is just the core ("B"), and the option text (with or without a
// leading article). The earliest mention wins; at equal positions the longest; if two
// different options are named at the same position that mention is skipped.
int parse_option(std::string_view text, const std::vector<std::string>& labels, const std::vector<std::string>& options);

// The first pronoun of the reply: they/them/their/theirs/themselves (and "he or she", "he/she",
// "s/he", "his or her" ...) are neutral; he/him/his/himself male; she/her/hers/herself female.
PronounClass parse_pronoun(std::string_view text);

// Text after the last occurrence of `marker` (case-insensitive), trimmed, surrounding quotes
// removed; without a marker the whole trimmed reply, with *found = false.
std::string parse_completion(std::string_view text, const std::string& marker, bool* found);

}  // namespace isc::tasks
