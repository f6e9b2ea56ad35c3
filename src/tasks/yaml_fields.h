// Strict reading of YAML/JSON maps for task and run files: typed getters whose errors name
// "file:line:col", and a check that rejects unknown keys (a typo must not pass as a default).
#pragma once
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace isc::tasks {

// "file:line:col" of a node (yaml-cpp marks are 0-based; these are 1-based).
std::string yaml_position(const std::string& file, const YAML::Node& node);

// Parses a YAML (or JSON, a subset of YAML) file; syntax errors become isc::Error "file:line:col: ...".
YAML::Node load_yaml_file(const std::string& path);

// A view of one map node of a file, with typed getters that throw isc::Error on a wrong type.
class YamlMap {
 public:
  YamlMap(std::string file, YAML::Node node, std::string what);  // throws if node is not a map

  const std::string& file() const { return file_; }
  const YAML::Node& node() const { return node_; }
  std::string position() const { return yaml_position(file_, node_); }
  std::string position_of(const std::string& key) const;  // the key's value, or the map if absent

  bool has(const std::string& key) const;
  void allow_only(std::initializer_list<const char*> keys) const;
  void allow_any_scalar_keys() const;  // any key name, but each must be a plain scalar

  std::string required_string(const std::string& key) const;
  std::optional<std::string> string(const std::string& key) const;
  std::optional<long long> integer(const std::string& key) const;
  std::optional<double> number(const std::string& key) const;
  std::optional<bool> boolean(const std::string& key) const;
  std::optional<std::vector<std::string>> string_list(const std::string& key) const;  // a scalar = list of one
  // A scalar = list of one; a non-integer element is "<its position>: expected <what>" (default
  // "an integer in '<key>'").
  std::optional<std::vector<long long>> integer_list(const std::string& key, const std::string& what = "") const;
  std::optional<YamlMap> map(const std::string& key) const;
  // A sequence of maps (e.g. conditions); empty optional if absent.
  std::optional<std::vector<YamlMap>> map_list(const std::string& key) const;

 private:
  YAML::Node value(const std::string& key) const;
  std::string file_;
  YAML::Node node_;
  std::string what_;
};

}  // namespace isc::tasks
