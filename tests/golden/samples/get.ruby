require 'net/http'
require 'uri'

uri = URI('https://api.example.com/v1/search?term=rock%20%26%20roll')
request = Net::HTTP::Get.new(uri)
request['Accept'] = 'application/json'

https = uri.scheme == 'https'
response = Net::HTTP.start(uri.hostname, uri.port, use_ssl: https) do |http|
  http.request(request)
end
puts "#{response.code} #{response.message}"
puts response.body