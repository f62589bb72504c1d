<?php
// Secrets are read from environment variables:
//   OCP_APIM_SUBSCRIPTION_KEY: your subscription key, in the Ocp-Apim-Subscription-Key header
$ch = curl_init('https://portal.example.com/gateway/keyed/v1/items/a%20b%2Fc?mode=fast%20%26%20safe');
curl_setopt_array($ch, [
    CURLOPT_CUSTOMREQUEST => 'POST',
    CURLOPT_HTTPHEADER => [
        'Content-Type: application/json',
        'Ocp-Apim-Subscription-Key: ' . getenv('OCP_APIM_SUBSCRIPTION_KEY'),
        'X-Trace: t-1',
    ],
    CURLOPT_POSTFIELDS => '{"name": "it\'s", "count": 1}
',
    CURLOPT_RETURNTRANSFER => true,
]);
$response = curl_exec($ch);
if ($response === false) {
    throw new RuntimeException(curl_error($ch));
}
echo curl_getinfo($ch, CURLINFO_RESPONSE_CODE), "\n", $response, "\n";