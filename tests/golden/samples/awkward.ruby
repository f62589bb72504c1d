# Secrets are read from environment variables:
#   KEY: the key parameter, percent-encoded
#   AUTHORIZATION: the Authorization header, after "Bearer "
require 'net/http'
require 'uri'

uri = URI('https://api.example.com/v1/items/a%20b%2Fc%27d%22e%24f%60g%25h%26i%7Cj%20%C3%A9?mode=x%26y%7Cz%20100%25&key=' + ENV.fetch('KEY') + '&q=%C3%BC%20%F0%9F%98%80')
request = Net::HTTP::Post.new(uri)
request['Content-Type'] = 'application/json'
request['Authorization'] = 'Bearer ' + ENV.fetch('AUTHORIZATION')
request['X-Awkward'] = 'it\'s "q" \\ $HOME `id` 100% a&b|c #{x}'
request['X-Empty'] = ''
request.body = '{
  "text": "it\'s \\"quoted\\" \\\\back\\\\slash $HOME ${PATH} `id` #{x} {$x} 100% a&b|c",
  "unicode": "é ü 中文 😀",
  "nested": "{\\"say\\": \\"he said \\\\\\"hi\\\\\\"\\", \\"path\\": \\"C:\\\\\\\\temp\\\\\\\\new\\"}",
  "newline escape": "one\\ntwo"
}
'

https = uri.scheme == 'https'
response = Net::HTTP.start(uri.hostname, uri.port, use_ssl: https) do |http|
  http.request(request)
end
puts "#{response.code} #{response.message}"
puts response.body