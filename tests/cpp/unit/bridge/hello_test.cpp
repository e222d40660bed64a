// The receiving thread's Hello check on hand-made bytes; the integration
// tests check it against the protobuf library's own encoding.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "sil/bridge/hello.hpp"

namespace sil::bridge {
namespace {

std::vector<std::byte> body_of(std::initializer_list<std::uint8_t> bytes) {
  std::vector<std::byte> body;
  for (const auto b : bytes) body.push_back(static_cast<std::byte>(b));
  return body;
}

bool hello(std::initializer_list<std::uint8_t> bytes) { return is_hello_request(body_of(bytes)); }
bool query(std::initializer_list<std::uint8_t> bytes) { return is_query_request(body_of(bytes)); }

TEST(IsHelloRequest, AcceptsTheCanonicalEncodings) {
  EXPECT_TRUE(hello({0x12, 0x00}));                                // Hello{} without a sequence
  EXPECT_TRUE(hello({0x08, 0x07, 0x12, 0x00}));                    // sequence 7
  EXPECT_TRUE(hello({0x08, 0xAC, 0x02, 0x12, 0x02, 0x08, 0x05}));  // sequence 300, catalogue_hash 5
  EXPECT_TRUE(hello({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x12, 0x06, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
  EXPECT_TRUE(hello({0x12, 0x04, 0x10, 0xE3, 0xFF, 0x03}));                  // bundle_bytes 65507 alone
  EXPECT_TRUE(hello({0x08, 0x01, 0x12, 0x05, 0x08, 0x05, 0x10, 0xC0, 0x0B}));  // hash 5, bundle_bytes 1472
}

TEST(IsHelloRequest, RejectsOtherCommandsAndMalformedBytes) {
  EXPECT_FALSE(hello({}));
  EXPECT_FALSE(hello({0x08, 0x01}));                    // a sequence and no command
  EXPECT_FALSE(hello({0x08, 0x01, 0x1A, 0x02, 0x08, 0x01}));  // advance{ticks: 1}
  EXPECT_FALSE(hello({0x3A, 0x00}));                    // get_stats
  EXPECT_FALSE(hello({0x12}));                          // no length
  EXPECT_FALSE(hello({0x12, 0x02, 0x08}));              // shorter than its length
  EXPECT_FALSE(hello({0x12, 0x00, 0x1A, 0x00}));        // hello, then advance: the parser would take advance
  EXPECT_FALSE(hello({0x08, 0x80}));                    // an unfinished varint
  EXPECT_FALSE(hello({0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x12, 0x00}));
  EXPECT_FALSE(hello({0x12, 0x80, 0x01}));              // a two-byte length: never a Hello
  // Found by the fuzzer: a Hello whose own bytes do not parse (a hash, then
  // a field that claims 49 bytes and has 1), so the Request does not either.
  EXPECT_FALSE(hello({0x12, 0x06, 0x08, 0x99, 0x52, 0x12, 0x31, 0xF0}));
  EXPECT_FALSE(hello({0x12, 0x01, 0x08}));              // a hash tag without its value
  EXPECT_FALSE(hello({0x12, 0x02, 0x18, 0x01}));        // a field Hello does not have
  EXPECT_FALSE(hello({0x12, 0x04, 0x10, 0x01, 0x08, 0x05}));  // bundle_bytes before the hash: not canonical
  EXPECT_FALSE(hello({0x12, 0x03, 0x08, 0x05, 0x10}));  // a bundle_bytes tag without its value
}

TEST(IsQueryRequest, AcceptsGetStatsAndGetCatalogueWithOrWithoutASequence) {
  EXPECT_TRUE(query({0x3A, 0x00}));                          // get_stats
  EXPECT_TRUE(query({0x42, 0x00}));                          // get_catalogue
  EXPECT_TRUE(query({0x08, 0x07, 0x3A, 0x00}));              // sequence 7
  EXPECT_TRUE(query({0x08, 0xAC, 0x02, 0x42, 0x00}));        // sequence 300
  EXPECT_EQ(claim_of_request(body_of({0x08, 0x01, 0x3A, 0x00})), PeerClaim::query);
  EXPECT_EQ(claim_of_request(body_of({0x08, 0x01, 0x12, 0x00})), PeerClaim::hello);
  EXPECT_EQ(claim_of_request(body_of({0x08, 0x01, 0x22, 0x00})), PeerClaim::ordinary);  // pause
}

TEST(IsQueryRequest, AcceptsGetParamsWithItsNamesAndListFaults) {
  EXPECT_TRUE(query({0x6A, 0x00}));                                      // list_faults
  EXPECT_TRUE(query({0x08, 0x02, 0x4A, 0x00}));                          // get_params: every parameter
  EXPECT_TRUE(query({0x4A, 0x05, 0x0A, 0x03, 'a', '.', 'b'}));           // get_params{names: "a.b"}
  EXPECT_TRUE(query({0x4A, 0x07, 0x0A, 0x01, 'a', 0x0A, 0x02, 'b', 'c'}));  // two names
  EXPECT_FALSE(query({0x6A, 0x01, 0x08}));                               // list_faults with a field it does not have
  EXPECT_FALSE(query({0x4A, 0x02, 0x12, 0x00}));                         // get_params, a field other than names
  EXPECT_FALSE(query({0x4A, 0x03, 0x0A, 0x05, 'a'}));                    // a name longer than what is there
  EXPECT_FALSE(query({0x4A, 0x80, 0x00}));                               // a length not in its shortest form
  EXPECT_FALSE(query({0x52, 0x00}));                                     // set_params: changes state
  EXPECT_FALSE(query({0x5A, 0x00}));                                     // add_fault
  EXPECT_FALSE(query({0x62, 0x00}));                                     // remove_fault
}

TEST(IsQueryRequest, RejectsCommandsAndAnythingNotCanonical) {
  EXPECT_FALSE(query({}));
  EXPECT_FALSE(query({0x08, 0x01}));                    // no command
  EXPECT_FALSE(query({0x12, 0x00}));                    // hello
  EXPECT_FALSE(query({0x22, 0x00}));                    // pause
  EXPECT_FALSE(query({0x1A, 0x02, 0x08, 0x01}));        // advance{ticks: 1}
  EXPECT_FALSE(query({0x3A}));                          // no length
  EXPECT_FALSE(query({0x3A, 0x02, 0x08, 0x01}));        // get_stats with a field it does not have
  EXPECT_FALSE(query({0x3A, 0x00, 0x22, 0x00}));        // get_stats, then pause: the parser would take pause
  EXPECT_FALSE(query({0x08, 0x80, 0x3A, 0x00}));        // an unfinished varint
}

}  // namespace
}  // namespace sil::bridge
