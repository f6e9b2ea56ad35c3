// One-turn requests in fresh conversations (judges rating or comparing texts): each request gets a
// conversation of its own, and every one is closed again, also when the backend throws.
#pragma once
#include <string>
#include <vector>

#include "backend/backend.h"

namespace isc {

// Sets each request's conversation, runs them in one batch, closes them; throws isc::Error (naming
// `who`) when the backend returns another number of results.
inline std::vector<TurnResult> run_in_fresh_conversations(Backend& backend, std::vector<TurnRequest>& requests,
                                                          const std::string& who) {
  for (TurnRequest& r : requests) r.conversation = backend.open_conversation();
  std::vector<TurnResult> results;
  try {
    results = backend.run_turns(requests);
  } catch (...) {
    for (const TurnRequest& r : requests) backend.close_conversation(r.conversation);
    throw;
  }
  for (const TurnRequest& r : requests) backend.close_conversation(r.conversation);
  if (results.size() != requests.size())
    throw Error(who + ": backend returned " + std::to_string(results.size()) + " results for " +
                std::to_string(requests.size()) + " requests");
  return results;
}

}  // namespace isc
