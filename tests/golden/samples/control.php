<?php
$ch = curl_init('https://api.example.com/v1/notes/n1');
curl_setopt_array($ch, [
    CURLOPT_CUSTOMREQUEST => 'PUT',
    CURLOPT_HTTPHEADER => [
        'X-Trace: t-1',
        'Content-Type:',
    ],
    CURLOPT_POSTFIELDS =>
        "line 1\r\n" .
        "\tline 2 'q' \"q\" \\ \$x #{y} `z` 100%\r\n" .
        "\e[0m \u{2028} é\r\n",
    CURLOPT_RETURNTRANSFER => true,
]);
$response = curl_exec($ch);
if ($response === false) {
    throw new RuntimeException(curl_error($ch));
}
echo curl_getinfo($ch, CURLINFO_RESPONSE_CODE), "\n", $response, "\n";