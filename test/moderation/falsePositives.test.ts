// False-positive corpus: ordinary prompts must pass, with a realistic server blocklist plus the built-in default and
// NSFW lists active (ordinary channel, NSFW off). Blocking these is a bug just as much as letting the evasions through.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check, serviceWithBlocklist } from './helpers.ts';

const service = serviceWithBlocklist([
  ['word', 'ass'], ['word', 'cunt'], ['word', 'rape'], ['word', 'rapist'], ['word', 'cock'], ['word', 'anal'],
  ['word', 'crap'], ['word', 'tit'], ['word', 'hell'], ['word', 'cum'], ['word', 'dick'], ['word', 'butt'],
  ['word', 'arse'], ['word', 'shit'], ['word', 'god'], ['word', 'pop'], ['phrase', 'blood bath'], ['regex', 'gore\\w*'],
  ['regex', '\\bkill(s|ed|ing)?\\b'],
]);

const ORDINARY_PROMPTS = [
  // Words that contain blocked words
  'a class of students in a sunlit classroom, watercolor',
  'green grass field at sunrise, 4k',
  'a narrow passage through ancient ruins, 8k uhd',
  'assassin in a hooded cloak on a rooftop, cinematic lighting',
  'Scunthorpe town centre in the rain, photograph',
  "a therapist's office with plants, cozy, soft light",
  'cocktail on a bar counter, bokeh, f/1.8',
  'data analysis dashboard, futuristic ui',
  'skyscraper at night, cyberpunk, neon',
  'Hello Kitty plush toy on a shelf',
  'seashell on the beach, macro photo',
  'titanium robot, studio lighting',
  'a cucumber salad, food photography',
  'document scanner, product shot',
  'a grape vineyard in Tuscany',
  'drapes and curtains in a Victorian parlor',
  'peacock feathers, macro, vivid colors',
  'Hancock street in Boston, 1990s film photo',
  'canal in Venice at dusk',
  'analog film photo of a diner, 35mm',
  'scrapbook page with stickers',
  'a cassette tape, retro, 1980s',
  'bass guitar on a stage, concert lights',
  'embassy building, architectural photo',
  'a glass of water on a wooden table',
  'compass and map on an old desk',
  'Sussex countryside, rolling hills, morning mist',
  'Essex coastline, watercolour',
  'sextant on a ship deck, brass, detailed',
  'Middlesex university campus in autumn',
  'a cocker spaniel puppy in the snow',
  'shuttlecock and badminton racket',
  'buttercup flowers in a meadow',
  'Arsenal football stadium, aerial view',
  'Dickens-era London street, foggy',
  'Assam tea plantation, green hills',
  'rapeseed field in bloom, yellow flowers',
  'a good dog sitting by the fire',
  'a shiitake mushroom close-up',
  'gorgeous sunset over the ocean',
  'skilled archer in a forest, fantasy art',
  // Near misses for the double-letter and spelled-out rules
  'as above, so below, occult symbolism',
  'a cat sitting on a windowsill, afternoon sun',
  'a b c alphabet blocks, pastel colors',
  's p a c e  t i m e typography poster',
  'a.i. generated art of friendly robots',
  'bloody mary cocktail next to bath bombs',
  // Digits and prompt syntax
  'masterpiece, best quality, 1girl, solo, long hair, smile',
  '(masterpiece:1.2), (best quality:1.1), landscape, mountains, [snow]',
  'f/1.8, 85mm, bokeh, 4k, 8k uhd, hdr',
  '1990s anime screenshot, cel shading',
  '3d render of a 2d character, 16:9',
  'vintage 1920s car, sepia, 1 2 3 4 5 countdown',
  'portrait, 50mm, ISO 100, 1/250s',
  // Names
  'portrait of Abraham Lincoln, oil painting',
  'Leonardo da Vinci style sketch of a flying machine',
  'Picasso style portrait of a woman, cubism',
  'Mount Everest, ultra detailed',
  // Minors and sexual words apart, and phrases that only contain a listed word
  'kids playing football in the park, golden hour',
  'a baby elephant with its mother, national geographic',
  'a teenage mutant ninja turtle action figure',
  "children's book illustration of a friendly dragon",
  'young boy flying a kite on the beach',
  'a naked mole rat in a zoo enclosure',
  'kids camping, stars visible to the naked eye',
  'fashion photo, nude lipstick, beige trench coat',
  'a nude-colored silk dress on a mannequin',
  'a 12 year old golden retriever sleeping',
  // Other scripts and emoji
  '日本の桜、春の風景、浮世絵',
  'قطة تجلس على النافذة',
  '🐱🌸✨ kawaii sticker',
  'Зимний лес в снегу, масло',
  'Ελληνικό νησί με λευκά σπίτια',
  'पहाड़ों पर सूर्योदय',
  '한옥 마을의 가을 풍경',
];

describe('false-positive corpus', () => {
  it('has at least 60 prompts', () => assert.ok(ORDINARY_PROMPTS.length >= 60));
  for (const prompt of ORDINARY_PROMPTS) {
    it(`passes: ${prompt}`, () => {
      const verdict = check(service, prompt);
      assert.equal(verdict.allowed, true, `blocked by ${JSON.stringify(verdict.rule)} on ${JSON.stringify(verdict.matchedText)}`);
    });
  }

  it('the same service does block the words themselves (control)', () => {
    for (const word of ['ass', 'cunt', 'rape', 'cock', 'anal', 'crap', 'tit', 'hell', 'cum', 'dick', 'god', 'killed', 'gore']) {
      assert.equal(check(service, `a ${word} here`).allowed, false, word);
    }
  });

  it('a typical negative prompt with NSFW words is not blocked by the built-in lists', () => {
    const verdict = check(service, 'a portrait of a girl in a garden', { negative: 'nsfw, nude, naked, child, lowres, bad anatomy' });
    assert.equal(verdict.allowed, true, JSON.stringify(verdict));
  });
});
