#include "sinks/json_output.hpp"

#include "sinks/json_text.hpp"
#include "sinks/output_factory.hpp"
#include "tests/sinks/sinks_test_util.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

using namespace malfix;

namespace {

std::string json_string(std::string_view text) {
    std::string out;
    sinks::append_json_string(out, text);
    return out;
}

std::string json_time(std::int64_t ns) {
    std::string out;
    sinks::append_json_time(out, ns);
    return out;
}

}  // namespace

TEST_CASE("a forwarded flow becomes one JSON line with every key", "[sinks][json]") {
    auto tmpl = test::make_template(256, test::basic_fields());
    test::BasicFlow f;
    const auto record = test::basic_record(f);
    const auto view = test::basic_view(record, tmpl, f, 7);
    engine::FlowBatch batch;
    const auto& flow = test::add_flow(
        batch, view,
        {test::ip_hit("198.51.100.2", "zeus (malware)"),
         test::ip_hit("192.0.2.1", "mass scanner", "(static)", engine::HitField::kSrcAddr)});

    std::string line;
    sinks::JsonOutput::format_flow(line, batch, flow);
    CHECK(line ==
          R"j({"time_start":"2016-04-07T17:11:32.478Z","time_end":"2016-04-07T17:11:33.000Z",)j"
          R"j("src_addr":"192.0.2.1","dst_addr":"198.51.100.2","src_port":49152,"dst_port":443,)j"
          R"j("proto":6,"bytes":1500,"packets":3,"hits":[)j"
          R"j({"type":"IP","trail":"198.51.100.2","info":"zeus (malware)","reference":"(static)",)j"
          R"j("field":"dst_addr"},)j"
          R"j({"type":"IP","trail":"192.0.2.1","info":"mass scanner","reference":"(static)",)j"
          R"j("field":"src_addr"}],"exporter":"tcp:192.0.2.9:4739","observation_domain":7})j"
          "\n");
}

TEST_CASE("DNS names are listed without their trailing dot and missing values are null",
          "[sinks][json]") {
    auto fields = test::basic_fields();
    fields.push_back({179, ipfix::kVariableLength, 6871});
    fields.push_back({179, ipfix::kVariableLength, 6871});
    auto tmpl = test::make_template(256, fields);
    test::BasicFlow f;
    auto record = test::basic_record(f);
    test::put_varlen(record, "l.google.com.");
    test::put_varlen(record, "we\"ird\x01.");
    auto view = test::basic_view(record, tmpl, f);
    view.dns[0] = {46, 13, 1};
    view.dns[1] = {46 + 14, 8, 28};
    view.dns_count = 2;
    view.start_ns = 0;
    view.dst_addr = {};

    engine::FlowBatch batch;
    const auto& flow = test::add_flow(batch, view, {}, true);
    std::string line;
    sinks::JsonOutput::format_flow(line, batch, flow);
    CHECK(line.find(R"j("time_start":null,)j") != std::string::npos);
    CHECK(line.find(R"j("dst_addr":null,)j") != std::string::npos);
    CHECK(line.find(R"j("dns_qnames":["l.google.com","we\"ird\u0001"],"hits":[],)j") !=
          std::string::npos);
}

TEST_CASE("JSON strings escape quotes and controls and replace invalid UTF-8", "[sinks][json]") {
    CHECK(json_string("plain") == R"j("plain")j");
    CHECK(json_string("a\"b\\c") == R"j("a\"b\\c")j");
    CHECK(json_string("\n\t\x1f\x7f") == R"j("\u000a\u0009\u001f\u007f")j");
    CHECK(json_string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
          "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
    CHECK(json_string("a\xFFz") == "\"a\xEF\xBF\xBDz\"");              // never valid
    CHECK(json_string("\xC0\xAF") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // overlong '/'
    CHECK(json_string("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
    CHECK(json_string("x\xE2\x82") == "\"x\xEF\xBF\xBD\xEF\xBF\xBD\"");  // truncated at the end
    CHECK(json_string(std::string_view("a\0b", 3)) == R"j("a\u0000b")j");
}

TEST_CASE("JSON times are RFC 3339 UTC with milliseconds", "[sinks][json]") {
    CHECK(json_time(0) == "null");
    CHECK(json_time(1460049092478'123'456) == R"j("2016-04-07T17:11:32.478Z")j");
    CHECK(json_time(1'000'000) == R"j("1970-01-01T00:00:00.001Z")j");
    CHECK(json_time(-1'000'000) == R"j("1969-12-31T23:59:59.999Z")j");
}

TEST_CASE("the JSON output writes only forwarded flows, one per line, and counts them",
          "[sinks][json]") {
    const auto path = std::filesystem::temp_directory_path() /
                      ("malfix_sinks_json_" + std::to_string(getpid()) + ".jsonl");
    auto tmpl = test::make_template(256, test::basic_fields());
    test::BasicFlow f;
    const auto record = test::basic_record(f);
    const auto view = test::basic_view(record, tmpl, f);
    engine::FlowBatch batch;
    test::add_flow(batch, view, {test::ip_hit("198.51.100.2", "zeus (malware)")});
    test::add_flow(batch, view, {}, false);
    test::add_flow(batch, view, {});

    auto out = sinks::make_output("json:" + path.string());
    CHECK(out->name() == "json:" + path.string());
    out->write(batch);
    out->flush();
    const auto stats = out->stats();
    CHECK(stats.flows == 2);
    CHECK(stats.messages == 2);
    CHECK(stats.dropped == 0);
    CHECK(stats.bytes == std::filesystem::file_size(path));

    std::string text(std::filesystem::file_size(path), '\0');
    std::FILE* in = std::fopen(path.c_str(), "rb");
    REQUIRE(in != nullptr);
    CHECK(std::fread(text.data(), 1, text.size(), in) == text.size());
    std::fclose(in);
    CHECK(std::count(text.begin(), text.end(), '\n') == 2);
    CHECK(text.find(R"j("hits":[],)j") != std::string::npos);  // the pipeline flow
    std::filesystem::remove(path);
}
