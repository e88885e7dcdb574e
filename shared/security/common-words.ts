/**
 * Words people put in secrets they make up (secret-strength.ts): the most common password words, the
 * words of this product's settings and templates, and keyboard walks. Lower case, at least 3 letters.
 * Not a dictionary of the language: readsAsWords() catches pronounceable text this list does not know.
 */
export const COMMON_WORDS: readonly string[] = [
  // Password lists' most common words.
  'password', 'passwd', 'pass', 'secret', 'changeme', 'change', 'letmein', 'welcome', 'admin', 'administrator', 'root',
  'login', 'master', 'dragon', 'monkey', 'shadow', 'sunshine', 'princess', 'football', 'baseball', 'soccer', 'hockey',
  'iloveyou', 'love', 'trustno', 'superman', 'batman', 'starwars', 'pokemon', 'freedom', 'whatever', 'hello', 'world',
  'charlie', 'michael', 'jordan', 'jennifer', 'hunter', 'ranger', 'buster', 'thomas', 'tigger', 'robert', 'soccer',
  'summer', 'winter', 'spring', 'autumn', 'flower', 'cookie', 'cheese', 'pepper', 'ginger', 'orange', 'banana', 'apple',
  'qwerty', 'qwertz', 'azerty', 'qwertyuiop', 'asdf', 'asdfgh', 'asdfghjkl', 'zxcv', 'zxcvbn', 'zxcvbnm', 'qazwsx',
  'wsxedc', 'qweasd', 'abc', 'abcd', 'abcdef', 'xyz', 'default', 'guest', 'test', 'testing', 'tester', 'demo', 'sample',
  'example', 'dummy', 'temp', 'temporary', 'simple', 'easy', 'strong', 'random', 'sesame', 'open', 'access', 'enter',
  'secure', 'security', 'private', 'public', 'shared', 'common', 'super', 'mega', 'ultra', 'best', 'good', 'great', 'cool',
  'magic', 'power', 'money', 'lucky', 'happy', 'angel', 'devil', 'god', 'jesus', 'family', 'friend', 'friends', 'baby',
  'the', 'and', 'for', 'you', 'not', 'this', 'that', 'with', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight',
  'nine', 'ten', 'zero', 'first', 'second', 'third', 'new', 'old', 'my', 'our', 'your', 'all', 'day', 'year', 'month',
  'red', 'blue', 'green', 'black', 'white', 'yellow', 'purple', 'silver', 'gold', 'horse', 'tiger', 'lion', 'eagle',
  'correct', 'battery', 'staple', 'dog', 'cat', 'fish', 'bird', 'cow', 'sun', 'moon', 'star', 'sky', 'fire', 'water',
  // Words of this product, its settings and the systems it talks to.
  'key', 'keys', 'token', 'tokens', 'hook', 'hooks', 'webhook', 'webhooks', 'web', 'api', 'hmac', 'sign', 'signing',
  'signature', 'seal', 'sealing', 'intake', 'mac', 'callback', 'tap', 'pass', 'mfa', 'reset', 'entra', 'azure',
  'microsoft', 'graph', 'jira', 'atlassian', 'servicenow', 'service', 'now', 'snow', 'automation', 'generic', 'whsec',
  'contoso', 'fabrikam', 'company', 'corp', 'prod', 'production', 'staging', 'stage', 'dev', 'develop', 'development',
  'local', 'localhost', 'app', 'function', 'functions', 'vault', 'keyvault', 'value', 'setting', 'settings', 'config',
  'my', 'here', 'put', 'replace', 'fill', 'todo', 'fixme', 'insert', 'placeholder', 'your', 'own', 'real',
  // Digit and symbol walks.
  '123', '1234', '12345', '123456', '1234567', '12345678', '123456789', '1234567890', '0123456789', '987654321',
  '111', '000', '007', '2024', '2025', '2026', '1q2w3e', '1qaz', '2wsx', '!@#', '!@#$', '!@#$%^',
].filter((word, index, all) => word.length >= 3 && all.indexOf(word) === index);
