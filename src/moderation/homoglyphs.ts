// Look-alike letter tables used by the prompt normaliser. Two kinds:
// - LATIN_FOLDS: Latin-script letters that NFKC/NFD leave alone but that only ever stand for a plain ASCII letter
//   (stroked letters, IPA, small capitals). Folded unconditionally.
// - SCRIPT_HOMOGLYPHS: Cyrillic and Greek letters that look like a Latin letter. Folded only in words that are mixed
//   with Latin or made entirely of look-alikes (see normalize.ts), so genuine Russian or Greek prompts stay intact.
// Keys are looked up before lower-casing, because upper and lower case look-alikes differ (Greek Η looks like H, η like n).

export const LATIN_FOLDS: Readonly<Record<string, string>> = {
  ß: 'ss', ẞ: 'ss', æ: 'ae', Æ: 'ae', œ: 'oe', Œ: 'oe',
  ø: 'o', Ø: 'o', ł: 'l', Ł: 'l', đ: 'd', Đ: 'd', ð: 'd', Ð: 'd', ħ: 'h', Ħ: 'h', ŧ: 't', Ŧ: 't', ƀ: 'b',
  ı: 'i', ȷ: 'j', ɑ: 'a', ɡ: 'g', ɩ: 'i', ʋ: 'u',
  // Small capitals, a common way to dodge filters ("ɴᴜᴅᴇ").
  ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ꜰ: 'f', ɢ: 'g', ʜ: 'h', ɪ: 'i', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'm',
  ɴ: 'n', ᴏ: 'o', ᴘ: 'p', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z',
};

export const SCRIPT_HOMOGLYPHS: Readonly<Record<string, string>> = {
  // Cyrillic, lower case
  а: 'a', в: 'b', е: 'e', к: 'k', м: 'm', н: 'h', о: 'o', п: 'n', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ш: 'w', ь: 'b', ѕ: 's', і: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'l', һ: 'h', ү: 'y',
  // Cyrillic, upper case
  А: 'a', В: 'b', Е: 'e', К: 'k', М: 'm', Н: 'h', О: 'o', Р: 'p', С: 'c', Т: 't', У: 'y', Х: 'x', Ѕ: 's',
  І: 'i', Ј: 'j', Ӏ: 'l', Ү: 'y', Ԁ: 'd', Ԛ: 'q', Ԝ: 'w', Һ: 'h', Ш: 'w',
  // Greek, lower case
  α: 'a', β: 'b', γ: 'y', ε: 'e', η: 'n', ι: 'i', κ: 'k', μ: 'u', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u',
  χ: 'x', ω: 'w', ϲ: 'c', ϳ: 'j',
  // Greek, upper case
  Α: 'a', Β: 'b', Ε: 'e', Ζ: 'z', Η: 'h', Ι: 'i', Κ: 'k', Μ: 'm', Ν: 'n', Ο: 'o', Ρ: 'p', Τ: 't', Υ: 'y',
  Χ: 'x', Ϲ: 'c',
};
