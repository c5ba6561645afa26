// Free text typed into the inspector: characters outside a tiny model's vocabulary (its
// training corpus's characters) map to their lowercase form or to ' ', and are reported.
#include <gtest/gtest.h>

#include <string>

#include "core/base/error.h"
#include "core/tiny/tiny_model.h"

using namespace linscope;
using namespace linscope::tiny;

namespace {

const TinyModel& model() {
  static const TinyModel m =
      TinyModel::load(find_assets_dir() + "/lion_s_bidirectional");  // vocab: no 'A', no digits
  return m;
}

int64_t id_of(const std::string& ch) {
  const auto& v = model().config().vocab;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == ch) return int64_t(i);
  return -1;
}

TEST(Lenient, TextInTheVocabularyTokenizesExactlyAsTokenize) {
  const std::string text = "We are met on a great battle-field.";
  std::string replaced = "stale";
  EXPECT_EQ(model().tokenize_lenient(text, &replaced), model().tokenize(text));
  EXPECT_EQ(replaced, "");
}

TEST(Lenient, CapitalWithoutAnEntryBecomesLowercaseOtherCharactersASpace) {
  // Preconditions the mapping relies on, so the test fails loudly if the model changes.
  ASSERT_LT(id_of("A"), 0);
  ASSERT_LT(id_of("7"), 0);
  ASSERT_GE(id_of("a"), 0);
  ASSERT_GE(id_of("B"), 0);
  EXPECT_THROW(model().tokenize("A7"), Error);
  std::string replaced;
  const auto ids = model().tokenize_lenient("A7Bb", &replaced);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[0], id_of("a"));
  EXPECT_EQ(ids[1], id_of(" "));
  EXPECT_EQ(ids[2], id_of("B")) << "a capital in the vocabulary stays itself";
  EXPECT_EQ(ids[3], id_of("b"));
  EXPECT_EQ(replaced, "A\u2192a, 7\u2192' '");
}

TEST(Lenient, EachReplacementIsListedOnceAndMultiByteCharactersAreOneToken) {
  std::string replaced;
  // "é" is two UTF-8 bytes: one character, so one token (a space), not two.
  const auto ids = model().tokenize_lenient(
      "A\xc3\xa9"
      "AA\t",
      &replaced);
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(ids[1], id_of(" "));
  EXPECT_EQ(ids[4], id_of(" "));
  EXPECT_EQ(replaced, "A\u2192a, \xc3\xa9\u2192' ', \\t\u2192' '");
}

TEST(Lenient, StrayBytesDoNotThrowAndNullReplacedIsAllowed) {
  const std::string bad = "a\xff\xc3";  // an invalid lead byte and a truncated sequence
  const auto ids = model().tokenize_lenient(bad, nullptr);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], id_of("a"));
  EXPECT_EQ(ids[1], id_of(" "));
  EXPECT_EQ(ids[2], id_of(" "));
}

TEST(Lenient, ForwardLenientEqualsForwardOnTheMappedText) {
  std::string replaced;
  ForwardOptions o;
  const Forward a = model().forward_lenient("A cat 7", o, &replaced);
  const Forward b = model().forward("a cat  ", o);  // A -> a, 7 -> ' ' by hand
  EXPECT_EQ(a.tokens, b.tokens);
  ASSERT_EQ(a.logits.numel(), b.logits.numel());
  // Same tokens through the same code path: bit-identical, no tolerance needed.
  for (int64_t i = 0; i < a.logits.numel(); ++i) ASSERT_EQ(a.logits[i], b.logits[i]);
  EXPECT_EQ(replaced, "A\u2192a, 7\u2192' '");
}

}  // namespace
