// Notices: an administrator's word to everyone with an account, posted and followed as a programme's announcement
// is (the composer and the list are the announcements' own, with no programme).
import { announcementsSection } from '../conversations/announcements.js';

export function noticesScreen(main) {
  main.append(announcementsSection(null));
}
