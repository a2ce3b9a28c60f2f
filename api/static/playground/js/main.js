// The playground's entry point: the notice, the key, the tabs, the three job panels, the queue panel,
// the history and the batches, each set up by its own module.
import { initBatches } from "./batches.js";
import { initChat } from "./chat.js";
import { initEmbed } from "./embed.js";
import { initHistory } from "./history.js";
import { initImage } from "./image.js";
import { initKey } from "./key.js";
import { initNotice } from "./notice.js";
import { initQueue } from "./queue.js";
import { initTabs } from "./tabs.js";

const byId = (id) => document.getElementById(id);

initNotice(byId("notice"));
initTabs(document.querySelector('[role="tablist"]'));
initKey(byId("key-form"), byId("key-state"));
initImage(byId("panel-image"));
initChat(byId("panel-chat"));
initEmbed(byId("panel-embed"));
initQueue(document.querySelector('[data-testid="queue-panel"]'));
initHistory(document.querySelector('[data-testid="history"]'));
initBatches(document.querySelector('[data-testid="batches"]'));
