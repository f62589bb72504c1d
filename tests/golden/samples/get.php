<?php
$ch = curl_init('https://api.example.com/v1/search?term=rock%20%26%20roll');
curl_setopt_array($ch, [
    CURLOPT_HTTPHEADER => [
        'Accept: application/json',
    ],
    CURLOPT_RETURNTRANSFER => true,
]);
$response = curl_exec($ch);
if ($response === false) {
    throw new RuntimeException(curl_error($ch));
}
echo curl_getinfo($ch, CURLINFO_RESPONSE_CODE), "\n", $response, "\n";