// The page starts here: the reader's words first, then the screens (whose modules may name their words when loaded).
import { useLanguage, wantedTag } from './words.js';

await useLanguage(wantedTag());
await import('./main.js');
