<?php
// Secrets are read from environment variables:
//   KEY: the key parameter, percent-encoded
//   AUTHORIZATION: the Authorization header, after "Bearer "
$ch = curl_init('https://api.example.com/v1/items/a%20b%2Fc%27d%22e%24f%60g%25h%26i%7Cj%20%C3%A9?mode=x%26y%7Cz%20100%25&key=' . getenv('KEY') . '&q=%C3%BC%20%F0%9F%98%80');
curl_setopt_array($ch, [
    CURLOPT_CUSTOMREQUEST => 'POST',
    CURLOPT_HTTPHEADER => [
        'Content-Type: application/json',
        'Authorization: Bearer ' . getenv('AUTHORIZATION'),
        'X-Awkward: it\'s "q" \\ $HOME `id` 100% a&b|c #{x}',
        'X-Empty;',
    ],
    CURLOPT_POSTFIELDS => '{
  "text": "it\'s \\"quoted\\" \\\\back\\\\slash $HOME ${PATH} `id` #{x} {$x} 100% a&b|c",
  "unicode": "é ü 中文 😀",
  "nested": "{\\"say\\": \\"he said \\\\\\"hi\\\\\\"\\", \\"path\\": \\"C:\\\\\\\\temp\\\\\\\\new\\"}",
  "newline escape": "one\\ntwo"
}
',
    CURLOPT_RETURNTRANSFER => true,
]);
$response = curl_exec($ch);
if ($response === false) {
    throw new RuntimeException(curl_error($ch));
}
echo curl_getinfo($ch, CURLINFO_RESPONSE_CODE), "\n", $response, "\n";