#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace malfix::sinks {

/// librdkafka configuration properties, in the order given (later ones win).
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

/// A parsed kafka://BROKER[,BROKER...]/TOPIC[?key=value&...] URL, as --output and --listen
/// take it. Query keys starting with "X." are librdkafka properties (X.compression.type=lz4);
/// every other key is kept in params for the output or input to check.
struct KafkaUrl {
    std::string brokers;  ///< as librdkafka's bootstrap.servers: "host:port,host:port"
    std::string topic;
    std::vector<std::pair<std::string, std::string>> params;
    KafkaProperties properties;

    /// The value of params[key], or fallback when absent.
    std::string param(std::string_view key, std::string_view fallback) const;
};

/// Parses a kafka:// URL; throws std::invalid_argument with a one-line reason naming the URL.
/// allowed_params lists the query keys the caller understands (X.* are always allowed).
KafkaUrl parse_kafka_url(std::string_view url, const std::vector<std::string>& allowed_params);

/// Splits "key=value" (the -X flag); throws std::invalid_argument when there is no '='.
std::pair<std::string, std::string> parse_kafka_property(std::string_view text);

}  // namespace malfix::sinks
